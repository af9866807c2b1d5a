using NeuralOde.Core;
using NeuralOde.Core.Batch;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Errors;

/// <summary>A failure says where: which instance, which pass and interval, and never "a maximum of 0 steps".</summary>
public class FailureLocationTests
{
    [Test]
    public void IndependentSolver_Failure_NamesTheFailedInstance_InPropertyAndMessage()
    {
        // y' = y² blows up at t = 1/y0: instances 3 (t = 0.5) and 5 (t = 0.25) fail before t = 1, the others do not.
        var solver = new IndependentSolver<double>(() => new FuncDynamics<double>(1, (t, y, d) => d[0] = y[0] * y[0]), SaveAt.End(0, 1),
            new SolveOptions { MaxSteps = 2000 }, partCount: 2);
        double[] y0 = [0.1, 0.2, 0.3, 2.0, 0.1, 4.0, 0.2, 0.3];
        var e = Assert.Throws<OdeSolverException>(() => solver.Solve(y0, new double[y0.Length], new SolveStats[y0.Length]));
        Assert.That(e!.Instance, Is.EqualTo(3));
        Assert.That(e.Message, Does.StartWith("Instance 3 (of 8) failed"));
        Assert.That(e.Time, Is.EqualTo(0.5).Within(1e-3), "instance 3 blows up at t = 0.5");
        Assert.That(e.BackwardInterval, Is.Null);
    }

    [Test]
    public void Adjoint_BackwardFailure_SaysItWasTheBackwardSolve_AndWhichOutputInterval()
    {
        var f = new ScalarGrowth(0.5);
        var options = new SolveOptions { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-12 };
        var e = Assert.Throws<OdeSolverException>(() =>
            AdjointRun<double>.Run(new Adjoint { MaxSteps = 3 }, f, [1.0], SaveAt.Times(0, 4, 10), options, output => [.. output.Select(_ => 1.0)]));
        Assert.That(e!.Reason, Is.EqualTo(SolveFailure.MaxStepsReached));
        Assert.That(e.BackwardInterval, Is.EqualTo((10.0, 4.0)));
        Assert.That(e.Message, Does.Contain("backward solve").And.Contain("output interval 2 of 2").And.Contain("from t = 10 back to t = 4"));
        Assert.That(e.Instance, Is.Null);
    }

    [Test]
    public void ReversibleHeun_ImpossibleStep_SaysNoStepWasTaken_NotAMaximumOfZeroSteps()
    {
        var solver = new ReversibleHeun<double>(new FuncDynamics<double>(1, (t, y, d) => d[0] = -y[0]));
        var e = Assert.Throws<OdeSolverException>(() => solver.Solve([1.0], SaveAt.End(0, 1), new FixedStep(1e-300)));
        Assert.That(e!.Reason, Is.EqualTo(SolveFailure.MaxStepsReached));
        Assert.That(e.Message, Does.Not.Contain("maximum of 0 steps"));
        Assert.That(e.Message, Does.Contain("1E-300").And.Contain("no step was taken").And.Contain("MaxSteps"));
        Assert.That(e.StepCount, Is.Zero);
    }
}
