using NeuralOde.Core;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Errors;

/// <summary>Every bad input throws an ArgumentException naming the argument and the value; numerical failures carry t, h and the step count.</summary>
public class SolveInputValidationTests
{
    private static FuncDynamics<double> Decay(int dimension = 1) => new(dimension, (t, y, d) => { for (int i = 0; i < y.Length; i++) d[i] = -y[i]; });

    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    [TestCase(double.NegativeInfinity)]
    public void Solve_ThrowsForNonFiniteInitialState(double bad)
    {
        var e = Assert.Throws<ArgumentException>(() => Ode.Solve(Decay(2), [1.0, bad], SaveAt.Times(0, 1)));
        Assert.That(e!.ParamName, Is.EqualTo("y0"));
        Assert.That(e.Message, Does.Contain("y0[1]"));
    }

    [Test]
    public void Solve_ThrowsForEmptyState()
    {
        var e = Assert.Throws<ArgumentException>(() => Ode.Solve(Decay(0), ReadOnlySpan<double>.Empty, SaveAt.Times(0, 1)));
        Assert.That(e!.ParamName, Is.EqualTo("y0"));
    }

    [Test]
    public void Solve_ThrowsForStateOfWrongLength()
    {
        var e = Assert.Throws<ArgumentException>(() => Ode.Solve(Decay(3), [1.0, 2.0], SaveAt.Times(0, 1)));
        Assert.That(e!.ParamName, Is.EqualTo("y0"));
        Assert.That(e.Message, Does.Contain("3"));
    }

    [Test]
    public void SaveAt_ThrowsForNonMonotoneTimes()
    {
        var e = Assert.Throws<ArgumentException>(() => SaveAt.Times(0, 1, 0.5, 2));
        Assert.That(e!.ParamName, Is.EqualTo("times"));
        Assert.That(e.Message, Does.Contain("0.5"));
    }

    [Test]
    public void SaveAt_ThrowsForRepeatedTimes()
    {
        var e = Assert.Throws<ArgumentException>(() => SaveAt.Times(0, 1, 1, 2));
        Assert.That(e!.ParamName, Is.EqualTo("times"));
        Assert.That(e.Message, Does.Contain("times[2] = 1"));
    }

    [Test]
    public void SaveAt_ThrowsForNonFiniteOrTooFewTimes()
    {
        Assert.That(() => SaveAt.Times(0, double.NaN), Throws.ArgumentException.With.Property("ParamName").EqualTo("times").And.Message.Contains("NaN"));
        Assert.That(() => SaveAt.Times(0), Throws.ArgumentException.With.Property("ParamName").EqualTo("times"));
        Assert.That(() => SaveAt.End(1, 1), Throws.ArgumentException.With.Property("ParamName").EqualTo("t1"));
    }

    [TestCase(0.0)]
    [TestCase(-1e-6)]
    [TestCase(double.NaN)]
    public void Solve_ThrowsForNonPositiveRtol(double rtol)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Ode.Solve(Decay(), [1.0], SaveAt.Times(0, 1), new SolveOptions { RelativeTolerance = rtol }));
        Assert.That(e!.ParamName, Is.EqualTo("options"));
        Assert.That(e.Message, Does.Contain("RelativeTolerance").And.Contain(rtol.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void Solve_ThrowsForNegativeAtolAndBadPerComponentTolerances()
    {
        Assert.That(() => Ode.Solve(Decay(), [1.0], SaveAt.Times(0, 1), new SolveOptions { AbsoluteTolerance = -1 }),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("AbsoluteTolerance"));
        Assert.That(() => Ode.Solve(Decay(2), [1.0, 1.0], SaveAt.Times(0, 1), new SolveOptions { RelativeTolerances = [1e-6] }),
            Throws.ArgumentException.With.Message.Contains("RelativeTolerances has 1 entries"));
        Assert.That(() => Ode.Solve(Decay(2), [1.0, 1.0], SaveAt.Times(0, 1), new SolveOptions { RelativeTolerances = [1e-6, 0] }),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("RelativeTolerances[1] = 0"));
    }

    [TestCase(0.0)]
    [TestCase(-0.1)]
    [TestCase(double.PositiveInfinity)]
    public void FixedStep_ThrowsForNonPositiveStep(double h)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new FixedStep(h));
        Assert.That(e!.ParamName, Is.EqualTo("stepSize"));
        Assert.That(e.ActualValue, Is.EqualTo(h));
    }

    [Test]
    public void Solve_ThrowsForAdaptiveControlWithoutErrorEstimate()
    {
        var e = Assert.Throws<ArgumentException>(() => Ode.Solve(Decay(), [1.0], SaveAt.Times(0, 1), new SolveOptions { Method = Tableaus.RungeKutta4 }));
        Assert.That(e!.ParamName, Is.EqualTo("options"));
        Assert.That(e.Message, Does.Contain("RK4").And.Contain("FixedStep"));
    }

    private sealed class CustomController : IStepSizeController
    {
        public bool IsAdaptive => true;
    }

    [Test]
    public void Solve_ThrowsForAnUnknownController()
    {
        var e = Assert.Throws<ArgumentException>(() => Ode.Solve(Decay(), [1.0], SaveAt.Times(0, 1), new SolveOptions { StepSize = new CustomController() }));
        Assert.That(e!.ParamName, Is.EqualTo("options"));
        Assert.That(e.Message, Does.Contain("CustomController"));
    }

    [Test]
    public void Solve_ThrowsForBadControllerSettings()
    {
        var options = new SolveOptions { StepSize = new PiController { FactorMax = 0.5 } };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Ode.Solve(Decay(), [1.0], SaveAt.Times(0, 1), options));
        Assert.That(e!.ParamName, Is.EqualTo("FactorMax"));
        Assert.That(e.ActualValue, Is.EqualTo(0.5));
    }

    [Test]
    public void Solve_ReportsNonFiniteDynamicsWithTheTime()
    {
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = t < 0.5 ? -y[0] : double.NaN);
        var e = Assert.Throws<OdeSolverException>(() => Ode.Solve(f, [1.0], SaveAt.Times(0, 1)));
        Assert.That(e!.Reason, Is.EqualTo(SolveFailure.NonFiniteState));
        Assert.That(e.Time, Is.EqualTo(0.5).Within(1e-6));
        Assert.That(e.Message, Does.Contain("t = 0.49999"));
        Assert.That(e.StepCount, Is.Positive);
    }

    [Test]
    public void Solve_ReportsNonFiniteDynamicsAtTheStart()
    {
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = double.PositiveInfinity);
        var e = Assert.Throws<OdeSolverException>(() => Ode.Solve(f, [1.0], SaveAt.Times(0, 1)));
        Assert.That(e!.Reason, Is.EqualTo(SolveFailure.NonFiniteState));
        Assert.That(e.Time, Is.EqualTo(0));
    }

    [Test]
    public void Solve_StopsAStiffProblemAtMaxSteps()
    {
        // y' = −1e6·(y − cos t): stiff, so an explicit method crawls; it must stop with an exception, never hang.
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -1e6 * (y[0] - Math.Cos(t)));
        var e = Assert.Throws<OdeSolverException>(() => Ode.Solve(f, [0.0], SaveAt.Times(0, 10), new SolveOptions { MaxSteps = 2000 }));
        Assert.That(e!.Reason, Is.EqualTo(SolveFailure.MaxStepsReached));
        Assert.That(e.StepCount, Is.EqualTo(2000));
        Assert.That(e.Time, Is.GreaterThan(0).And.LessThan(10));
        Assert.That(e.StepSize, Is.GreaterThan(0).And.LessThan(1e-4));
        Assert.That(e.Message, Does.Contain("MaxSteps"));
    }

    [Test]
    public void Solve_ReportsStepSizeUnderflowAtASingularity()
    {
        // y' = y², y(0) = 1 blows up at t = 1.
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = y[0] * y[0]);
        var e = Assert.Throws<OdeSolverException>(() => Ode.Solve(f, [1.0], SaveAt.Times(0, 2), new SolveOptions { StepSize = new PiController { DtMin = 1e-6 } }));
        Assert.That(e!.Reason, Is.EqualTo(SolveFailure.StepSizeUnderflow));
        Assert.That(e.Time, Is.EqualTo(1).Within(1e-2));
        Assert.That(Math.Abs(e.StepSize), Is.EqualTo(1e-6));
    }

    [Test]
    public void TrySolve_ReturnsTheFailureAndTheStatesReachedInsteadOfThrowing()
    {
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = y[0] * y[0]);
        var sol = Ode.TrySolve(f, [1.0], SaveAt.Times(0, 0.5, 2), new SolveOptions { MaxSteps = 500 });
        Assert.That(sol.Succeeded, Is.False);
        Assert.That(sol.Failure!.Reason, Is.AnyOf(SolveFailure.MaxStepsReached, SolveFailure.StepSizeUnderflow));
        Assert.That(sol.Times, Is.EqualTo(new[] { 0.0, 0.5 }));
        Assert.That(sol.States[1][0], Is.EqualTo(2.0).Within(1e-4));
    }

    [Test]
    public void TrySolve_StillThrowsForArgumentErrors()
    {
        Assert.That(() => Ode.TrySolve(Decay(), [double.NaN], SaveAt.Times(0, 1)), Throws.ArgumentException);
    }
}
