using NeuralOde.Core;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Solvers;

/// <summary>Descending times integrate backwards; forward then back recovers y0.</summary>
public class ReverseTimeTests
{
    public static IEnumerable<ButcherTableau> AdaptiveMethods => Tableaus.All.Where(t => t.HasErrorEstimate);

    [TestCaseSource(nameof(AdaptiveMethods))]
    public void ForwardThenBackward_RecoversTheInitialState(ButcherTableau method)
    {
        ReferenceProblem lv = SolverTestProblems.All.Single(p => p.Name == "lotka_volterra");
        // Low-order pairs need far more steps for the same accuracy: give them a looser tolerance.
        double rtol = method.Order switch { <= 2 => 1e-6, 3 => 1e-8, _ => 1e-10 };
        var options = new SolveOptions { Method = method, RelativeTolerance = rtol, AbsoluteTolerance = rtol * 1e-2 };
        var forward = Ode.Solve(lv.Dynamics(), lv.Y0, SaveAt.End(0, 5), options);
        var backward = Ode.Solve(lv.Dynamics(), forward.States[0], SaveAt.End(5, 0), options);
        Assert.That(backward.Stats.LastStepSize, Is.Negative);
        for (int i = 0; i < 2; i++) Assert.That(backward.States[0][i], Is.EqualTo(lv.Y0[i]).Within(1e4 * rtol * Math.Abs(lv.Y0[i])));
    }

    [Test]
    public void DescendingTimes_MatchTheClosedForm()
    {
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -0.5 * y[0]);
        var sol = Ode.Solve(f, [1.0], SaveAt.Times(2, 1.5, 0), new SolveOptions { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-12 });
        Assert.That(sol.Times, Is.EqualTo(new[] { 2.0, 1.5, 0.0 }));
        Assert.That(sol.States[1][0], Is.EqualTo(Math.Exp(0.25)).Within(1e-9));
        Assert.That(sol.States[2][0], Is.EqualTo(Math.Exp(1.0)).Within(1e-9));
    }

    [Test]
    public void FixedStepBackward_LandsOnTheEndTime()
    {
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = t);
        var sol = Ode.Solve(f, [0.0], SaveAt.End(1, -0.25), new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(0.1) });
        Assert.That(sol.Stats.AcceptedSteps, Is.EqualTo(13));
        Assert.That(sol.States[0][0], Is.EqualTo((0.0625 - 1) / 2).Within(1e-12));
    }
}
