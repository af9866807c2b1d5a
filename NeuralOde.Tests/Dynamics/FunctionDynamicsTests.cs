using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Tests.Dynamics;

/// <summary>Dynamics written as lambdas: plain (<see cref="OdeFunction{T}"/>) and recorded on a tape (<see cref="TapeOdeFunction{T}"/>).</summary>
public sealed class FunctionDynamicsTests
{
    // Newton's law of cooling, y' = −k (y − ambient): y(t) = ambient + (y0 − ambient)·e^{−kt}.
    private const double Rate = 0.3, Ambient = 20, Initial = 90, EndTime = 10;

    private static double Exact(double k, double y0, double t) => Ambient + (y0 - Ambient) * Math.Exp(-k * t);

    private static readonly SolveOptions Tight = new() { Method = Tableaus.DormandPrince54, RelativeTolerance = 1e-11, AbsoluteTolerance = 1e-11 };

    [Test]
    public void OdeSolve_WithALambda_MatchesNewtonCoolingClosedForm()
    {
        double k = Rate;
        var solution = Ode.Solve((t, y, dy) => dy[0] = -k * (y[0] - Ambient), [Initial], SaveAt.Times(0, 2.5, 5, EndTime), Tight);
        for (int i = 0; i < solution.Times.Count; i++)
            Assert.That(solution.States[i][0], Is.EqualTo(Exact(k, Initial, solution.Times[i])).Within(1e-8), $"t = {solution.Times[i]}");
    }

    [Test]
    public void OdeSolve_WithALambda_BatchOfIndependentRows_MatchesClosedFormPerRow()
    {
        double[] rates = [0.1, 0.5, 2.0];
        var solution = Ode.Solve<double>((t, y, dy) =>
        {
            for (int i = 0; i < y.Length; i++) dy[i] = -rates[i] * (y[i] - Ambient);
        }, [Initial, 50, 0], SaveAt.End(0, 3), Tight);
        double[] y0 = [Initial, 50, 0];
        for (int i = 0; i < 3; i++) Assert.That(solution.States[^1][i], Is.EqualTo(Exact(rates[i], y0[i], 3)).Within(1e-8));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void OdeSolve_WithALambda_AllocatesNothingPerStepWhenWarm(bool adaptive)
    {
        // A solve allocates its result (times, states, statistics) once; the steps in between must allocate nothing,
        // so a solve of ten times the steps allocates exactly as much as a short one.
        double k = Rate;
        OdeFunction<double> cooling = (t, y, dy) => dy[0] = -k * (y[0] - Ambient) + Math.Sin(t);
        var options = adaptive
            ? new SolveOptions { Method = Tableaus.DormandPrince54, RelativeTolerance = 1e-9, AbsoluteTolerance = 1e-9 }
            : new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(0.01) };
        double[] y0 = [Initial];
        long Allocated(double t1, out int steps)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var solution = Ode.Solve(cooling, y0, SaveAt.End(0, t1), options);
            long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            steps = solution.Stats.AcceptedSteps;
            return bytes;
        }
        Allocated(1, out _);
        Allocated(10, out _);
        long shortRun = long.MaxValue, longRun = long.MaxValue;
        int shortSteps = 0, longSteps = 0;
        for (int i = 0; i < 3; i++)   // the quietest of a few windows: a one-time runtime allocation may land in one
        {
            shortRun = Math.Min(shortRun, Allocated(1, out shortSteps));
            longRun = Math.Min(longRun, Allocated(10, out longSteps));
        }
        TestContext.Out.WriteLine($"{shortSteps} steps: {shortRun} B; {longSteps} steps: {longRun} B");
        Assert.That(longSteps, Is.GreaterThan(5 * shortSteps), "the long solve must take many more steps");
        Assert.That(longRun, Is.EqualTo(shortRun), "bytes allocated must not grow with the number of steps");
    }

    [Test]
    public void FunctionDynamics_Evaluate_CallsTheDelegateOncePerEvaluation()
    {
        int calls = 0;
        var f = new FunctionDynamics<double>(4, (t, y, dy) => { calls++; y.CopyTo(dy); });
        var solution = Ode.Solve(f, [1.0, 2, 3, 4], SaveAt.End(0, 1), new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(0.1) });
        Assert.That(calls, Is.EqualTo(solution.Stats.FunctionEvaluations));
        Assert.That(solution.States[^1][3], Is.EqualTo(4 * Math.E).Within(1e-4));
    }

    private static (TapeFunctionDynamics<double> F, Parameter<double> K) CoolingOnATape(double k)
    {
        var parameters = new ParameterSet<double>();
        var rate = parameters.Add("k", Shape.Scalar);
        rate.Value[0] = k;
        var f = new TapeFunctionDynamics<double>(parameters, Shape.Scalar,
            (tape, t, y) => Ops.Negate(Ops.Multiply(tape.Parameter(rate), Ops.AddScalar(y, -Ambient))));
        return (f, rate);
    }

    private static IEnumerable<TestCaseData> Strategies()
    {
        yield return new TestCaseData(new Backprop()).SetArgDisplayNames("Backprop");
        yield return new TestCaseData(new Checkpointed()).SetArgDisplayNames("Checkpointed");
        yield return new TestCaseData(new Adjoint()).SetArgDisplayNames("Adjoint");
    }

    [TestCaseSource(nameof(Strategies))]
    public void TapeFunctionDynamics_GradientThroughOdeLayer_MatchesFiniteDifferencesAndClosedForm(ISensitivity sensitivity)
    {
        // L = y(T)²: dL/dk and dL/dy0 by the strategy, against central differences of plain lambda solves and the closed form.
        var (f, rate) = CoolingOnATape(Rate);
        var tape = new Tape<double>();
        var y0 = tape.Variable([Initial], Shape.Scalar);
        f.Parameters.ZeroGradients();
        var solve = OdeLayer.Solve(tape, f, y0, SaveAt.End(0, EndTime), Tight, sensitivity);
        tape.Backward(Ops.Sum(Ops.Square(solve.Final)));
        double gradK = rate.Gradient[0], gradY0 = y0.Gradient[0];

        static double Loss(double k, double y0) =>
            Math.Pow(Ode.Solve((t, y, dy) => dy[0] = -k * (y[0] - Ambient), [y0], SaveAt.End(0, EndTime), Tight).States[^1][0], 2);
        const double h = 1e-5;
        double fdK = (Loss(Rate + h, Initial) - Loss(Rate - h, Initial)) / (2 * h);
        double fdY0 = (Loss(Rate, Initial + h) - Loss(Rate, Initial - h)) / (2 * h);
        double yT = Exact(Rate, Initial, EndTime), decay = Math.Exp(-Rate * EndTime);
        double exactK = 2 * yT * -(Initial - Ambient) * EndTime * decay, exactY0 = 2 * yT * decay;
        TestContext.Out.WriteLine($"dL/dk {gradK} (fd {fdK}, exact {exactK}); dL/dy0 {gradY0} (fd {fdY0}, exact {exactY0})");
        Assert.That(solve.Final.Value[0], Is.EqualTo(yT).Within(1e-8));
        Assert.That(gradK, Is.EqualTo(fdK).Within(1e-6 * Math.Abs(fdK)));
        Assert.That(gradY0, Is.EqualTo(fdY0).Within(1e-6 * Math.Abs(fdY0)));
        Assert.That(gradK, Is.EqualTo(exactK).Within(1e-6 * Math.Abs(exactK)));
        Assert.That(gradY0, Is.EqualTo(exactY0).Within(1e-6 * Math.Abs(exactY0)));
    }

    [Test]
    public void TapeFunctionDynamics_WithReversibleHeun_GradientMatchesFiniteDifferencesOfTheSameFixedSteps()
    {
        var (f, rate) = CoolingOnATape(Rate);
        var options = new SolveOptions { StepSize = new FixedStep(0.05) };
        var tape = new Tape<double>();
        var y0 = tape.Variable([Initial], Shape.Scalar);
        f.Parameters.ZeroGradients();
        var solve = OdeLayer.Solve(tape, f, y0, SaveAt.End(0, EndTime), options, new Reversible());
        tape.Backward(Ops.Sum(Ops.Square(solve.Final)));
        double gradK = rate.Gradient[0];

        double Loss(double k)
        {
            rate.Value[0] = k;
            var plain = new Tape<double>();
            double value = OdeLayer.Solve(plain, f, plain.Constant([Initial], Shape.Scalar), SaveAt.End(0, EndTime), options, new Reversible()).Final.Value[0];
            return value * value;
        }
        const double h = 1e-6;
        double fdK = (Loss(Rate + h) - Loss(Rate - h)) / (2 * h);
        rate.Value[0] = Rate;
        TestContext.Out.WriteLine($"reversible Heun: dL/dk {gradK}, fd {fdK}");
        Assert.That(gradK, Is.EqualTo(fdK).Within(1e-6 * Math.Abs(fdK)));
    }

    [Test]
    public void TapeFunctionDynamics_EvaluateAndVjp_AllocateNothingWhenWarm()
    {
        var (f, _) = CoolingOnATape(Rate);
        double[] y = [Initial], dy = new double[1], cotangent = [1], gradY = new double[1], gradTheta = new double[1];
        f.Evaluate(0, y, dy);
        f.Vjp(0, y, cotangent, gradY, gradTheta);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            f.Evaluate(i * 0.1, y, dy);
            f.Vjp(i * 0.1, y, cotangent, gradY, gradTheta);
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
        Assert.That(dy[0], Is.EqualTo(-Rate * (Initial - Ambient)).Within(1e-12));
        Assert.That(gradY[0], Is.EqualTo(-Rate).Within(1e-12));
        Assert.That(gradTheta[0], Is.EqualTo(-(Initial - Ambient)).Within(1e-12));
    }
}
