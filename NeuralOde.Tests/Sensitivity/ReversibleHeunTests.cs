using NeuralOde.Core;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>The reversible Heun solver on its own: order, step grid, statistics, directions, types, bad inputs.</summary>
public class ReversibleHeunTests
{
    private static readonly Rhs Oscillator = (t, y, d) => { d[0] = y[1]; d[1] = -y[0]; };
    private static readonly Rhs Decay = (t, y, d) => d[0] = -y[0];

    private static double OscillatorError(int steps, double t1)
    {
        var solver = new ReversibleHeun<double>(new FuncDynamics<double>(2, Oscillator));
        var sol = solver.Solve([1.0, 0.0], SaveAt.End(0, t1), steps);
        Assert.That(sol.Stats.AcceptedSteps, Is.EqualTo(steps));
        return Math.Max(Math.Abs(sol.States[0][0] - Math.Cos(t1)), Math.Abs(sol.States[0][1] + Math.Sin(t1)));
    }

    [Test]
    public void ReversibleHeun_ConvergesAtSecondOrder_OnTheHarmonicOscillator()
    {
        double e1 = OscillatorError(100, 2.0), e2 = OscillatorError(200, 2.0), e3 = OscillatorError(400, 2.0);
        double slope1 = Math.Log2(e1 / e2), slope2 = Math.Log2(e2 / e3);
        Assert.That(slope1, Is.EqualTo(2).Within(0.1), $"errors {e1:E3}, {e2:E3}");
        Assert.That(slope2, Is.EqualTo(2).Within(0.1), $"errors {e2:E3}, {e3:E3}");
    }

    [Test]
    public void ReversibleHeun_ConvergesAtSecondOrder_OnDecay_BackwardsInTime()
    {
        // From t = 1 down to t = 0: y(0) = e·y(1).
        double Error(double h)
        {
            var solver = new ReversibleHeun<double>(new FuncDynamics<double>(1, Decay));
            var sol = solver.Solve([1.0], SaveAt.End(1, 0), new FixedStep(h));
            Assert.That(sol.Stats.LastStepSize, Is.LessThan(0), "steps are signed with the direction of time");
            return Math.Abs(sol.States[0][0] - Math.E);
        }
        double slope = Math.Log2(Error(0.02) / Error(0.01));
        Assert.That(slope, Is.EqualTo(2).Within(0.1));
    }

    [Test]
    public void ReversibleHeun_IsAccurateForMildDecay_ButItsParasiticModeGrowsLikeExpOfLambdaT()
    {
        // Stable only for hλ on [−i, i]: for λ < 0 the mode −(1 + h|λ|) per step grows like e^{|λ|t} at any h.
        double End(double lambda)
        {
            var solver = new ReversibleHeun<double>(new FuncDynamics<double>(1, (t, y, d) => d[0] = lambda * y[0]));
            return solver.Solve([1.0], SaveAt.End(0, 5), new FixedStep(0.01)).States[0][0];
        }
        Assert.That(End(-1), Is.EqualTo(Math.Exp(-5)).Within(1e-6), "measured 4.7e-7");
        Assert.That(Math.Abs(End(-5)), Is.GreaterThan(1), "measured −2.8e4 instead of 1.4e-11: documents the instability");
    }

    [Test]
    public void Solve_ClipsTheLastStepOntoEachSavedTime_AndCountsOneEvaluationPerStepPlusOne()
    {
        var f = new FuncDynamics<double>(1, Decay);
        var solver = new ReversibleHeun<double>(f);
        var sol = solver.Solve([1.0], SaveAt.Times(0, 0.25, 1.0), new FixedStep(0.1));
        // [0, 0.25]: 0.1, 0.1, 0.05; [0.25, 1]: seven of 0.1 and one of 0.05.
        Assert.That(sol.Stats.AcceptedSteps, Is.EqualTo(3 + 8));
        Assert.That(sol.Stats.FunctionEvaluations, Is.EqualTo(3 + 8 + 1));
        Assert.That(f.Calls, Is.EqualTo(12));
        Assert.That(sol.Stats.LastStepSize, Is.EqualTo(0.05).Within(1e-15));
        Assert.That(sol.Times, Is.EqualTo(new[] { 0, 0.25, 1.0 }));
        Assert.That(sol.States[0][0], Is.EqualTo(1.0));
        Assert.That(sol.States[1][0], Is.EqualTo(Math.Exp(-0.25)).Within(1e-3));
        Assert.That(sol.States[2][0], Is.EqualTo(Math.Exp(-1)).Within(1e-3));
    }

    [Test]
    public void Solve_EndOnly_ReturnsOneRow_AndAStepSizeThatDividesTheSpanTakesExactlyThatManySteps()
    {
        var solver = new ReversibleHeun<double>(new FuncDynamics<double>(1, Decay));
        var sol = solver.Solve([1.0], SaveAt.End(0, 1), new FixedStep(0.1));
        Assert.That(sol.Times, Has.Count.EqualTo(1));
        Assert.That(sol.Stats.AcceptedSteps, Is.EqualTo(10), "1/0.1 is 10 up to round-off, not 11 with a sliver");
    }

    [Test]
    public void Solve_InFloat_AgreesWithDouble()
    {
        var d = new ReversibleHeun<double>(new FuncDynamics<double>(2, Oscillator)).Solve([1.0, 0.0], SaveAt.End(0, 3), new FixedStep(0.01));
        var s = new ReversibleHeun<float>(new FuncDynamics<float>(2, Oscillator)).Solve([1f, 0f], SaveAt.End(0, 3), new FixedStep(0.01));
        Assert.That(s.States[0][0], Is.EqualTo(d.States[0][0]).Within(1e-4));
        Assert.That(s.States[0][1], Is.EqualTo(d.States[0][1]).Within(1e-4));
    }

    [Test]
    public void Solve_WithSolveOptions_UsesTheirFixedStep()
    {
        var solver = new ReversibleHeun<double>(new FuncDynamics<double>(1, Decay));
        var sol = solver.Solve([1.0], SaveAt.End(0, 1), new SolveOptions { StepSize = new FixedStep(0.05) });
        Assert.That(sol.Stats.AcceptedSteps, Is.EqualTo(20));
    }

    [Test]
    public void Solve_ThrowsForNaNInitialState_NamingY0AndTheValue()
    {
        var solver = new ReversibleHeun<double>(new FuncDynamics<double>(2, Oscillator));
        var ex = Assert.Throws<ArgumentException>(() => solver.Solve([1.0, double.NaN], SaveAt.End(0, 1), new FixedStep(0.1)));
        Assert.That(ex!.ParamName, Is.EqualTo("y0"));
        Assert.That(ex.Message, Does.Contain("y0[1]").And.Contain("NaN"));
    }

    [Test]
    public void Solve_ThrowsForWrongLengthInitialState()
    {
        var solver = new ReversibleHeun<double>(new FuncDynamics<double>(2, Oscillator));
        var ex = Assert.Throws<ArgumentException>(() => solver.Solve([1.0], SaveAt.End(0, 1), new FixedStep(0.1)));
        Assert.That(ex!.ParamName, Is.EqualTo("y0"));
    }

    [Test]
    public void Solve_ThrowsForNonMonotoneTimes_NamingTimesAndValues()
    {
        var ex = Assert.Throws<ArgumentException>(() => SaveAt.Times(0, 1, 0.5));
        Assert.That(ex!.ParamName, Is.EqualTo("times"));
        Assert.That(ex.Message, Does.Contain("0.5"));
    }

    [TestCase(0.0)]
    [TestCase(-0.1)]
    [TestCase(double.NaN)]
    public void Solve_ThrowsForNonPositiveStep_NamingStepSizeAndValue(double h)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new FixedStep(h));
        Assert.That(ex!.ParamName, Is.EqualTo("stepSize"));
        Assert.That(ex.ActualValue, Is.EqualTo(h));
    }

    [Test]
    public void Solve_ThrowsForZeroStepCount_NamingSteps()
    {
        var solver = new ReversibleHeun<double>(new FuncDynamics<double>(1, Decay));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => solver.Solve([1.0], SaveAt.End(0, 1), 0));
        Assert.That(ex!.ParamName, Is.EqualTo("steps"));
        Assert.That(ex.ActualValue, Is.EqualTo(0));
    }

    [Test]
    public void Solve_ThrowsWhenMoreStepsThanMaxStepsAreNeeded()
    {
        var solver = new ReversibleHeun<double>(new FuncDynamics<double>(1, Decay));
        var ex = Assert.Throws<OdeSolverException>(() => solver.Solve([1.0], SaveAt.End(0, 1), new FixedStep(1e-3), maxSteps: 100));
        Assert.That(ex!.Reason, Is.EqualTo(SolveFailure.MaxStepsReached));
    }

    [Test]
    public void Solve_StopsWithItsTime_WhenTheStateBlowsUp()
    {
        // y' = y², y(0) = 1: y = 1/(1 − t) blows up at t = 1.
        var solver = new ReversibleHeun<double>(new FuncDynamics<double>(1, (t, y, d) => d[0] = y[0] * y[0]));
        var ex = Assert.Throws<OdeSolverException>(() => solver.Solve([1.0], SaveAt.End(0, 3), new FixedStep(0.01)));
        Assert.That(ex!.Reason, Is.EqualTo(SolveFailure.NonFiniteState));
        Assert.That(ex.Time, Is.GreaterThan(0.9).And.LessThanOrEqualTo(3.0));
        Assert.That(ex.Message, Does.Contain("t = "));
    }
}
