using NeuralOde.Core;
using NeuralOde.Core.Solvers;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Solvers;

/// <summary>Hairer's stiffness test on the explicit methods: where a problem turns stiff, reported in the statistics and in the MaxSteps message.</summary>
public class StiffnessDetectionTests
{
    [TestCase("Euler", 2.0)]
    [TestCase("RungeKutta4", 2.785)]
    [TestCase("Heun", 2.0)]
    public void RealStabilityBoundary_MatchesTheKnownInterval(string name, double published)
    {
        // Euler: |1 + z| ≤ 1 on [−2, 0]; the order-s explicit methods with s = p share e^z's Taylor polynomial, whose
        // real stability interval is 2 for p = 2 and 2.7853 for p = 4 (Hairer & Wanner II, §IV.2).
        var tableau = (ButcherTableau)typeof(Tableaus).GetField(name)!.GetValue(null)!;
        Assert.That(tableau.RealStabilityBoundary, Is.EqualTo(published).Within(1.5e-3));
    }

    [Test]
    public void DormandPrince_StabilityBoundary_IsAboutThreePointThree()
    {
        // DOPRI5 flags stiffness at h·λ > 3.25, just inside its boundary.
        double boundary = Tableaus.DormandPrince54.RealStabilityBoundary;
        TestContext.Out.WriteLine($"Dormand–Prince 5(4): {boundary:F4}, Tsitouras 5(4): {Tableaus.Tsitouras54.RealStabilityBoundary:F4}");
        Assert.That(boundary, Is.InRange(3.25, 3.35));
    }

    [Test]
    public void Robertson_WithDormandPrince_IsFoundStiff_AndTheMaxStepsMessageNamesAStiffMethod()
    {
        var (_, y0, _) = StiffProblems.Problem("rober");
        var f = new FuncDynamics<double>(3, StiffProblems.Rhs["rober"]);
        var e = Assert.Throws<OdeSolverException>(() => Ode.Solve(f, y0, SaveAt.End(0, 1e5), new SolveOptions { MaxSteps = 5000 }));
        TestContext.Out.WriteLine(e!.Message);
        Assert.That(e.Reason, Is.EqualTo(SolveFailure.MaxStepsReached));
        Assert.That(e.Message, Does.Contain("appears stiff from t = ").And.Contain("Rodas5P"));

        var sol = Ode.Solve(f, y0, SaveAt.End(0, 1), new SolveOptions { MaxSteps = 100_000 });
        TestContext.Out.WriteLine($"Robertson on [0, 1] with Dormand–Prince: {sol.Stats.AcceptedSteps} steps, stiff from t = {sol.Stats.StiffnessDetectedAt:G4}");
        Assert.That(sol.Stats.StiffnessDetectedAt, Is.Not.Null.And.LessThan(0.5));
    }

    [Test]
    public void ANonStiffProblem_IsNotFlagged_AndItsMaxStepsMessageSaysNothingOfStiffness()
    {
        // Lorenz: chaotic, not stiff; the step is limited by accuracy.
        var f = new FuncDynamics<double>(3, (t, y, d) =>
        {
            d[0] = 10 * (y[1] - y[0]);
            d[1] = y[0] * (28 - y[2]) - y[1];
            d[2] = y[0] * y[1] - 8.0 / 3 * y[2];
        });
        var sol = Ode.Solve(f, [1.0, 1.0, 1.0], SaveAt.End(0, 20), new SolveOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-10 });
        Assert.That(sol.Stats.StiffnessDetectedAt, Is.Null, $"{sol.Stats.AcceptedSteps} steps");
        var e = Assert.Throws<OdeSolverException>(() => Ode.Solve(f, [1.0, 1.0, 1.0], SaveAt.End(0, 20), new SolveOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-10, MaxSteps = 100 }));
        Assert.That(e!.Message, Does.Not.Contain("stiff from"));
    }

    [Test]
    public void OdeStepper_ReportsTheSameStiffnessInItsFailure()
    {
        var (_, y0, _) = StiffProblems.Problem("rober");
        var f = new FuncDynamics<double>(3, StiffProblems.Rhs["rober"]);
        var stepper = Ode.Steps(f, y0, 0, 1e5, new SolveOptions { MaxSteps = 5000 });
        var e = Assert.Throws<OdeSolverException>(() => { while (stepper.MoveNext()) { } });
        Assert.That(e!.Message, Does.Contain("appears stiff from t = "));
    }
}
