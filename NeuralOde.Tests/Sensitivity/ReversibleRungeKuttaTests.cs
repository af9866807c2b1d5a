using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>McCallum–Foster reversible Runge–Kutta: agreement with backprop through the same coupled steps, reconstruction, order, closed form, refusals.</summary>
public class ReversibleRungeKuttaTests
{
    private const int Batch = 3;
    private const int Width = 2;

    private sealed record Run(double[] Output, double[] GradY0, double[] GradTheta, double[] GradTimes, SolveStats Forward, GradientStats Backward, ReversibleRungeKuttaGradient<double> Gradient);

    private static Run Differentiate(IDifferentiableDynamics<double> f, Shape shape, double[] y0, SaveAt saveAt, SolveOptions options, double[] cotangent, double coupling = 0.999)
    {
        var gradient = new ReversibleRungeKutta { Coupling = coupling }.CreateGradient<double>(shape);
        var output = new double[saveAt.Count * f.Dimension];
        var forward = gradient.Forward(f, y0, saveAt, options, output);
        var gradY0 = new double[f.Dimension];
        var gradTheta = new double[f.Parameters.Length];
        var gradTimes = new double[saveAt.AllTimes.Count];
        var backward = gradient.Backward(cotangent, gradY0, gradTheta, gradTimes);
        return new Run(output, gradY0, gradTheta, gradTimes, forward, backward, gradient);
    }

    private static MlpDynamics<double> SmallMlp(int seed = 3) =>
        new(Mlp.Create<double>(Width, [16], Width, Activation.Tanh, TimeInput.Concat, seed), Batch);

    private static void AssertMatchesTapeReference(IDifferentiableDynamics<double> f, Shape shape, double[] y0, SaveAt saveAt, SolveOptions options, double coupling)
    {
        var cotangent = GradientCheck.Random(saveAt.Count * f.Dimension, seed: 5);
        var run = Differentiate(f, shape, y0, saveAt, options, cotangent, coupling);
        var reference = ReversibleRungeKuttaReference.Gradient(f, shape, y0, options.Method, coupling, saveAt.AllTimes, saveAt.FirstSavedIndex, run.Gradient.StepEnds, cotangent);
        double loss = run.Output.Zip(cotangent, (a, b) => a * b).Sum();
        double gy = GradientCheck.MaxRelativeToLargest(run.GradY0, reference.GradY0), gt = GradientCheck.MaxRelativeToLargest(run.GradTheta, reference.GradTheta);
        TestContext.Out.WriteLine($"{options.Method.Name}, {run.Forward.AcceptedSteps} steps ({run.Forward.RejectedSteps} rejected): loss {loss:R} vs {reference.Loss:R}; dL/dy0 rel {gy:E2}, dL/dθ rel {gt:E2}");
        Assert.That(loss, Is.EqualTo(reference.Loss).Within(1e-12).Percent);
        Assert.That(gy, Is.LessThan(1e-10));
        Assert.That(gt, Is.LessThan(1e-10));
    }

    [Test]
    public void Gradient_EqualsBackpropThroughTheSameCoupledSteps_ThreeEighthsRk4_FixedSteps_Mlp()
    {
        var f = SmallMlp();
        AssertMatchesTapeReference(f, new Shape(Batch, Width), GradientCheck.Random(Batch * Width, seed: 7), SaveAt.End(0, 1),
            new SolveOptions { Method = Tableaus.ThreeEighths, StepSize = new FixedStep(0.05) }, coupling: 0.999);
    }

    [Test]
    public void Gradient_EqualsBackpropThroughTheSameCoupledSteps_Dopri5_AdaptiveSteps_SeveralSavedTimes_DescendingTimes()
    {
        var f = SmallMlp(seed: 4);
        AssertMatchesTapeReference(f, new Shape(Batch, Width), GradientCheck.Random(Batch * Width, seed: 8), SaveAt.Times(1.0, 0.6, 0.2, -0.5),
            new SolveOptions { Method = Tableaus.DormandPrince54, RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-8 }, coupling: 0.9);
    }

    [Test]
    public void Backward_ReconstructsTheInitialState_OnTheHarmonicOscillator_OverT10()
    {
        var f = ReversibleLinearDynamics.Oscillator();
        double[] y0 = [1.0, 0.5];
        var run = Differentiate(f, new Shape(1, 2), y0, SaveAt.End(0, 10), new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(0.01) }, [1.0, -2.0]);
        var (y, z) = run.Gradient.Reconstructed;
        double error = Math.Max(Math.Max(Math.Abs(y[0] - 1), Math.Abs(y[1] - 0.5)), Math.Max(Math.Abs(z[0] - 1), Math.Abs(z[1] - 0.5)));
        TestContext.Out.WriteLine($"oscillator, RK4, 1000 steps: max |(y0, z0) - x0| = {error:E2}");
        Assert.That(run.Backward.RecomputedSteps, Is.EqualTo(1000));
        Assert.That(run.Gradient.StoredStepTimes, Is.Zero, "fixed steps keep nothing per step");
        Assert.That(error, Is.LessThan(1e-12));
    }

    [TestCase(0.999)]
    [TestCase(0.5)]
    public void Solution_HasTheBaseMethodsOrder_OnTheHarmonicOscillator(double coupling)
    {
        // RK4 base: halving h divides the global error by about 2^4.
        var f = ReversibleLinearDynamics.Oscillator();
        double Error(double h)
        {
            var run = Differentiate(f, new Shape(1, 2), [1.0, 0.0], SaveAt.End(0, 2), new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(h) }, [1.0, 0.0], coupling);
            return Math.Max(Math.Abs(run.Output[0] - Math.Cos(2)), Math.Abs(run.Output[1] - -Math.Sin(2)));
        }
        double e1 = Error(0.1), e2 = Error(0.05);
        double order = Math.Log2(e1 / e2);
        TestContext.Out.WriteLine($"errors {e1:E3}, {e2:E3}: observed order {order:F2}");
        Assert.That(order, Is.InRange(3.5, 4.5));
    }

    // y' = μy with an RK4 base and h = 0.01: the step has a physical mode R(hμ) and a parasitic one λ/R(hμ) per step.
    // Measured (x86-64): μ = −1, T = 5, λ = 0.999: forward 5e-9, reconstruction 3e-15; μ = −20, T = 1: λ = 0.999 diverges
    // (forward error 2e11: parasitic 1.22 per step), λ = 0.5 is stable (forward error 1.6e-4, RK4's own).
    [TestCase(-1.0, 5.0, 0.999, 1e-7, TestName = "Forward_IsAccurate_ForMildDecay_WithTheDefaultCoupling")]
    [TestCase(-20.0, 1.0, 0.5, 1e-3, TestName = "Forward_IsStable_ForStrongDecay_WhenTheCouplingIsBelowTheStepsDecay")]
    [TestCase(-20.0, 1.0, 0.999, double.NaN, TestName = "Forward_Diverges_ForStrongDecay_WhenTheCouplingExceedsTheStepsDecay")]
    public void Forward_StabilityOnDecay_DependsOnTheCoupling(double mu, double t1, double coupling, double bound)
    {
        var f = new ReversibleLinearDynamics([mu], [0]);
        var run = Differentiate(f, new Shape(1, 1), [1.0], SaveAt.End(0, t1), new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(0.01) }, [1.0], coupling);
        var (y, z) = run.Gradient.Reconstructed;
        double forward = Math.Abs(run.Output[0] / Math.Exp(mu * t1) - 1);
        double reconstruction = Math.Max(Math.Abs(y[0] - 1), Math.Abs(z[0] - 1));
        TestContext.Out.WriteLine($"mu {mu}, T {t1}, lambda {coupling}: forward relative error {forward:E2}, reconstruction {reconstruction:E2}");
        if (double.IsNaN(bound))
        {
            Assert.That(forward, Is.GreaterThan(1), "documents the limit: the parasitic mode λ/R(hμ) > 1 grows");
            return;
        }
        Assert.That(forward, Is.LessThan(bound));
        Assert.That(Math.Abs(run.GradY0[0] / Math.Exp(mu * t1) - 1), Is.LessThan(bound));
        if (mu > -10) Assert.That(reconstruction, Is.LessThan(1e-12));
    }

    [Test]
    public void Gradient_MatchesTheClosedForm_OfZPrimeEqualsThetaZ_Adaptive()
    {
        // z' = θz, L = z(T): dL/dθ = T·z0·e^{θT}, dL/dz0 = e^{θT}, dL/dT = θ·z0·e^{θT}.
        double theta = 0.7, z0 = 1.3, t1 = 1.5;
        var f = new ScalarGrowth(theta);
        var run = Differentiate(f, new Shape(1, 1), [z0], SaveAt.End(0, t1),
            new SolveOptions { Method = Tableaus.DormandPrince54, RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-12 }, [1.0]);
        Assert.That(run.Gradient.StoredStepTimes, Is.EqualTo(run.Forward.AcceptedSteps), "adaptive steps keep one time each");
        double e = Math.Exp(theta * t1);
        Assert.That(run.Output[0], Is.EqualTo(z0 * e).Within(1e-8).Percent);
        Assert.That(run.GradY0[0], Is.EqualTo(e).Within(1e-7).Percent);
        Assert.That(run.GradTheta[f.Theta.Offset], Is.EqualTo(t1 * z0 * e).Within(1e-7).Percent);
        Assert.That(run.GradTheta[f.Unused.Offset], Is.Zero);
        Assert.That(run.GradTimes[1], Is.EqualTo(theta * z0 * e).Within(1e-7).Percent);
        Assert.That(run.GradTimes[0], Is.EqualTo(-theta * z0 * e).Within(1e-7).Percent);
    }

    [Test]
    public void OdeLayer_WithReversibleRungeKutta_GivesTheSameGradientAsTheDirectCall()
    {
        var f = SmallMlp();
        var y0 = GradientCheck.Random(Batch * Width, seed: 9);
        var options = new SolveOptions { Method = Tableaus.BogackiShampine32, RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-8 };
        var direct = Differentiate(f, new Shape(Batch, Width), y0, SaveAt.End(0, 1), options, Enumerable.Repeat(1.0, Batch * Width).ToArray());

        var tape = new Tape<double>();
        f.Parameters.ZeroGradients();
        var x = tape.Variable(y0, new Shape(Batch, Width));
        var solve = OdeLayer.Solve(tape, f, x, SaveAt.End(0, 1), options, new ReversibleRungeKutta());
        tape.Backward(Ops.Sum(solve.Final));
        Assert.That(x.Gradient.ToArray(), Is.EqualTo(direct.GradY0).Within(1e-14));
        Assert.That(f.Parameters.Gradients.ToArray(), Is.EqualTo(direct.GradTheta).Within(1e-14));
    }

    [Test]
    public void Coupling_OutsideZeroToOne_IsRefused_NamingTheValue()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ReversibleRungeKutta { Coupling = 1.5 });
        Assert.That(e!.Message, Does.Contain("1.5"));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ReversibleRungeKutta { Coupling = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ReversibleRungeKutta { Coupling = double.NaN });
    }

    [Test]
    public void UnsupportedOptions_AreRefused_WithTheReason()
    {
        var f = new ScalarGrowth(0.5);
        var gradient = new ReversibleRungeKutta().CreateGradient<double>(new Shape(1, 1));
        var output = new double[1];
        var dense = Assert.Throws<ArgumentException>(() => gradient.Forward(f, [1.0], SaveAt.End(0, 1), new SolveOptions { DenseOutput = true }, output));
        Assert.That(dense!.Message, Does.Contain("DenseOutput"));
        var past = Assert.Throws<ArgumentException>(() => gradient.Forward(f, [1.0], SaveAt.End(0, 1), new SolveOptions { StepPastEnd = true }, output));
        Assert.That(past!.Message, Does.Contain("StepPastEnd"));
        var nan = Assert.Throws<ArgumentException>(() => gradient.Forward(f, [double.NaN], SaveAt.End(0, 1), new SolveOptions(), output));
        Assert.That(nan!.Message, Does.Contain("y0[0]"));
    }

    [Test]
    public void DynamicsThatBlowUp_ThrowAClearSolverException_NotAHang()
    {
        // y' = y², y(0) = 1 blows up at t = 1: the steps shrink towards the singularity until a limit stops the solve.
        var f = new BlowUp();
        var gradient = new ReversibleRungeKutta().CreateGradient<double>(new Shape(1, 1));
        var e = Assert.Throws<OdeSolverException>(() => gradient.Forward(f, [1.0], SaveAt.End(0, 2), new SolveOptions { Method = Tableaus.DormandPrince54 }, new double[1]));
        TestContext.Out.WriteLine(e!.Message);
        // The one step loop decides as it does for a plain solve of the same problem (SolveInputValidationTests).
        Assert.That(e.Reason, Is.EqualTo(SolveFailure.StepSizeUnderflow), "the steps shrink towards the singularity until h underflows");
        Assert.That(e.Time, Is.InRange(0.99, 1.001), "stops at the blow-up near t = 1, not at the end of the span");
    }

    private sealed class BlowUp : IDifferentiableDynamics<double>
    {
        public int Dimension => 1;

        public ParameterSet<double> Parameters { get; } = new();

        public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> dydt) => dydt[0] = y[0] * y[0];

        public void Vjp(double t, ReadOnlySpan<double> y, ReadOnlySpan<double> cotangent, Span<double> gradY, Span<double> gradTheta) => gradY[0] = 2 * y[0] * cotangent[0];

        public Var<double> Record(Tape<double> tape, double t, Var<double> y) => Ops.Square(y);
    }

    [Test]
    public void TimeGradients_AtSeveralSavedTimes_MatchTheClosedForm_DescendingTimes()
    {
        // z' = θz, L = Σ_i c_i z(t_i): dL/dt_i = c_i·θ·z(t_i) and dL/dt0 = −θ·Σ_i c_i z(t_i) (t0 itself not saved here).
        double theta = -0.4, z0 = 0.8;
        double[] times = [2.0, 1.5, 0.7, 0.1];
        double[] c = [0.3, -1.2, 2.0];
        var f = new ScalarGrowth(theta);
        var saveAt = SaveAt.Times(times);
        var cotangent = new double[saveAt.Count];
        for (int i = 0; i < c.Length; i++) cotangent[saveAt.Count - c.Length + i] = c[i];
        var run = Differentiate(f, new Shape(1, 1), [z0], saveAt,
            new SolveOptions { Method = Tableaus.DormandPrince54, RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-12 }, cotangent);
        double sum = 0;
        for (int i = 0; i < c.Length; i++)
        {
            double z = z0 * Math.Exp(theta * (times[i + 1] - times[0]));
            sum += c[i] * z;
            Assert.That(run.GradTimes[i + 1], Is.EqualTo(c[i] * theta * z).Within(1e-7).Percent, $"t{i + 1}");
        }
        Assert.That(run.GradTimes[0], Is.EqualTo(-theta * sum).Within(1e-7).Percent, "t0");
    }

    [Test]
    public void InFloat_TheGradientMatchesTheDoublePrecisionRun()
    {
        var network = Mlp.Create<float>(Width, [16], Width, Activation.Tanh, TimeInput.Concat, 3);
        var f32 = new MlpDynamics<float>(network, Batch);
        var f64 = SmallMlp(seed: 3);
        var y0 = GradientCheck.Random(Batch * Width, seed: 7);
        var options = new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(0.1) };
        var cotangent = Enumerable.Repeat(1.0, Batch * Width).ToArray();
        var reference = Differentiate(f64, new Shape(Batch, Width), y0, SaveAt.End(0, 1), options, cotangent);

        var gradient = new ReversibleRungeKutta().CreateGradient<float>(new Shape(Batch, Width));
        var output = new float[Batch * Width];
        gradient.Forward(f32, y0.Select(v => (float)v).ToArray(), SaveAt.End(0, 1), options, output);
        var gradY0 = new float[Batch * Width];
        var gradTheta = new float[f32.Parameters.Length];
        gradient.Backward(Enumerable.Repeat(1f, Batch * Width).ToArray(), gradY0, gradTheta, default);
        Assert.That(GradientCheck.MaxRelativeToLargest([.. gradY0.Select(v => (double)v)], reference.GradY0), Is.LessThan(1e-5));
        Assert.That(GradientCheck.MaxRelativeToLargest([.. gradTheta.Select(v => (double)v)], reference.GradTheta), Is.LessThan(1e-5));
    }

    [Test]
    public void AnAdaptiveControllerWithAMethodWithoutAnErrorEstimate_OrABadTolerance_IsRefused()
    {
        var f = new ScalarGrowth(0.5);
        var gradient = new ReversibleRungeKutta().CreateGradient<double>(new Shape(1, 1));
        var noEstimate = Assert.Throws<ArgumentException>(() => gradient.Forward(f, [1.0], SaveAt.End(0, 1), new SolveOptions { Method = Tableaus.RungeKutta4 }, new double[1]));
        Assert.That(noEstimate!.Message, Does.Contain("no error estimate"));
        var tolerance = Assert.Throws<ArgumentOutOfRangeException>(() => gradient.Forward(f, [1.0], SaveAt.End(0, 1), new SolveOptions { RelativeTolerance = -1 }, new double[1]));
        Assert.That(tolerance!.Message, Does.Contain("RelativeTolerance"));
    }

    [Test]
    public void TooManySteps_ThrowsMaxStepsReached()
    {
        var f = new ScalarGrowth(0.5);
        var gradient = new ReversibleRungeKutta().CreateGradient<double>(new Shape(1, 1));
        var e = Assert.Throws<OdeSolverException>(() => gradient.Forward(f, [1.0], SaveAt.End(0, 1), new SolveOptions { StepSize = new FixedStep(0.001), MaxSteps = 100 }, new double[1]));
        Assert.That(e!.Reason, Is.EqualTo(SolveFailure.MaxStepsReached));
    }
}
