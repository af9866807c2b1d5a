using NeuralOde.Core;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Solvers;

/// <summary>The resumable stepper takes the same steps as a solve and interpolates inside each one.</summary>
public class StepperTests
{
    [Test]
    public void Stepper_TakesTheSameStepsAsSolve_AndEndsOnT1()
    {
        ReferenceProblem lv = SolverTestProblems.All.Single(p => p.Name == "lotka_volterra");
        var options = new SolveOptions { RelativeTolerance = 1e-8, RecordSteps = true };
        var sol = Ode.Solve(lv.Dynamics(), lv.Y0, SaveAt.End(0, 3), options);

        var stepper = Ode.Steps(lv.Dynamics(), lv.Y0, 0, 3, options);
        var steps = new List<StepRecord>();
        var mid = new double[2];
        foreach (StepRecord step in stepper)
        {
            steps.Add(step);
            stepper.Interpolate(step.Time + 0.5 * step.StepSize, mid);
            Assert.That(mid.All(double.IsFinite), Is.True);
        }
        Assert.That(steps, Is.EqualTo(sol.Steps));
        Assert.That(stepper.Time, Is.EqualTo(3.0));
        Assert.That(stepper.State.ToArray(), Is.EqualTo(sol.States[0].ToArray()));
        Assert.That(stepper.Stats, Is.EqualTo(sol.Stats));
    }

    [Test]
    public void Stepper_RejectsInterpolationOutsideTheLastStep()
    {
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -y[0]);
        var stepper = Ode.Steps(f, [1.0], 0, 1);
        var dest = new double[1];
        Assert.That(() => stepper.Interpolate(0.5, dest), Throws.InvalidOperationException);
        Assert.That(stepper.MoveNext(), Is.True);
        Assert.That(() => stepper.Interpolate(stepper.Current.EndTime + 1, dest), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("time"));
    }
}
