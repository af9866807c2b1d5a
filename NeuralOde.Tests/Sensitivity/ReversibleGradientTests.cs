using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>The Reversible sensitivity: reconstruction, agreement with backprop through the same steps, closed forms, finite differences, refusals.</summary>
public class ReversibleGradientTests
{
    private const int NetworkSeed = 3;
    private const int DataSeed = 11;
    private const int Batch = 3;
    private const int Width = 2;

    private sealed record Run(double[] Output, double[] GradY0, double[] GradTheta, double[] GradTimes, GradientStats Stats, ReversibleGradient<double> Gradient);

    private static Run Differentiate(IDifferentiableDynamics<double> f, double[] y0, SaveAt saveAt, double h, double[] cotangent)
    {
        var gradient = Reversible.CreateGradient<double>();
        var output = new double[saveAt.Count * f.Dimension];
        gradient.Forward(f, y0, saveAt, new SolveOptions { StepSize = new FixedStep(h) }, output);
        var gradY0 = new double[f.Dimension];
        var gradTheta = new double[f.Parameters.Length];
        var gradTimes = new double[saveAt.AllTimes.Count];
        var stats = gradient.Backward(cotangent, gradY0, gradTheta, gradTimes);
        return new Run(output, gradY0, gradTheta, gradTimes, stats, gradient);
    }

    /// <summary>
    /// A small random tanh MLP (2 → 16 → 2, time concatenated, default initialisation) for a batch of 3 states. Its
    /// Jacobian eigenvalues near the origin are about +0.19 and −0.10: mildly contracting in one direction, mildly
    /// expanding in the other, so |Re λ|·T ≪ 1 over T = 1.
    /// </summary>
    private static MlpDynamics<double> SmallMlp()
    {
        var network = Mlp.Create<double>(Width, [16], Width, Activation.Tanh, TimeInput.Concat, NetworkSeed);
        return new MlpDynamics<double>(network, Batch);
    }

    private static double L(double[] output, double[] cotangent)
    {
        double s = 0;
        for (int i = 0; i < output.Length; i++) s += output[i] * cotangent[i];
        return s;
    }

    private static double MaxAbs(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        return worst;
    }

    [Test]
    public void Backward_ReconstructsTheInitialState_OnTheHarmonicOscillator_OverT10WithH001()
    {
        var f = ReversibleLinearDynamics.Oscillator();
        double[] y0 = [1.0, 0.5];
        var run = Differentiate(f, y0, SaveAt.End(0, 10), 0.01, [1.0, -2.0]);
        double yError = MaxAbs(run.Gradient.ReconstructedY0, y0);
        double yHatError = MaxAbs(run.Gradient.ReconstructedAuxiliaryY0, y0);
        TestContext.Out.WriteLine($"oscillator, 1000 steps: |y0 - y0_rec| = {yError:E2}, |yhat0 - y0| = {yHatError:E2}");
        Assert.That(run.Stats.RecomputedSteps, Is.EqualTo(1000));
        Assert.That(yError, Is.LessThan(1e-13), "measured 5e-15 on x86-64");
        Assert.That(yHatError, Is.LessThan(1e-13));
    }

    [Test]
    public void Backward_ReconstructsTheInitialState_OnAMildlyDissipativeMlp_OverT1()
    {
        var f = SmallMlp();
        double[] y0 = GradientCheck.Random(Batch * Width, DataSeed);
        var cotangent = GradientCheck.Random(Batch * Width, DataSeed + 1);
        var run = Differentiate(f, y0, SaveAt.End(0, 1), 0.01, cotangent);
        double yError = MaxAbs(run.Gradient.ReconstructedY0, y0);
        double yHatError = MaxAbs(run.Gradient.ReconstructedAuxiliaryY0, y0);
        TestContext.Out.WriteLine($"MLP, 100 steps: |y0 - y0_rec| = {yError:E2}, |yhat0 - y0| = {yHatError:E2}");
        Assert.That(yError, Is.LessThan(1e-13));
        Assert.That(yHatError, Is.LessThan(1e-13));
    }

    [TestCase(-1.0, 5.0, 1e-13, TestName = "Backward_ReconstructionHolds_ForMildDecay_LambdaMinus1_T5")]
    [TestCase(-20.0, 1.0, 1e-6, TestName = "Backward_ReconstructionIsLost_ForStrongDecay_LambdaMinus20_T1")]
    public void Backward_ReconstructionErrorGrowsLikeExpOfTwiceTheDecayTimesT(double lambda, double t1, double bound)
    {
        // y' = λy, h = 0.01: forward the parasitic mode (≈ −(1 + h|λ|) per step) amplifies round-off by e^{|λ|T}, and
        // the reverse recurrence amplifies it again through the physical mode, so the error is roughly ε·e^{2|λ|T}·1e-4.
        // Measured: λ = −1, T = 5: 4e-16; λ = −5, T = 5: 44; λ = −20, T = 1: 2e-2.
        var f = new ReversibleLinearDynamics([lambda], [0]);
        var run = Differentiate(f, [1.0], SaveAt.End(0, t1), 0.01, [1.0]);
        double error = Math.Abs(run.Gradient.ReconstructedY0[0] - 1);
        TestContext.Out.WriteLine($"lambda = {lambda}, T = {t1}: |y0 - y0_rec| = {error:E2}");
        if (lambda > -10) Assert.That(error, Is.LessThan(bound));
        else Assert.That(error, Is.GreaterThan(bound), "documents the limit: reconstruction is not to be trusted here");
    }

    [Test]
    public void Gradient_EqualsBackpropThroughTheSameSteps_LinearForcedDynamics()
    {
        var f = new ReversibleLinearDynamics([-0.3, 1.1, -0.9, -0.1], [0.4, -0.7]);
        double[] y0 = [0.8, -0.3];
        var saveAt = SaveAt.Times(0, 0.3, 1.0, 1.7);
        var cotangent = GradientCheck.Random(saveAt.Count * 2, DataSeed);
        var run = Differentiate(f, y0, saveAt, 0.07, cotangent);
        var reference = ReversibleTapeReference.Gradient(f, f.StateShape, y0, run.Gradient.Schedule!, saveAt.FirstSavedIndex, cotangent);
        double ey = GradientCheck.MaxRelativeToLargest(run.GradY0, reference.GradY0), et = GradientCheck.MaxRelativeToLargest(run.GradTheta, reference.GradTheta);
        TestContext.Out.WriteLine($"linear: dL/dy0 rel {ey:E2}, dL/dtheta rel {et:E2}");
        Assert.That(L(run.Output, cotangent), Is.EqualTo(reference.Loss).Within(1e-12));
        Assert.That(ey, Is.LessThan(1e-10));
        Assert.That(et, Is.LessThan(1e-10));
    }

    [Test]
    public void Gradient_EqualsBackpropThroughTheSameSteps_Mlp_DescendingTimes()
    {
        var f = SmallMlp();
        double[] y0 = GradientCheck.Random(Batch * Width, DataSeed);
        var saveAt = SaveAt.Times(1.0, 0.6, 0.0);
        var cotangent = GradientCheck.Random(saveAt.Count * Batch * Width, DataSeed + 1);
        var run = Differentiate(f, y0, saveAt, 0.03, cotangent);
        var reference = ReversibleTapeReference.Gradient(f, f.StateShape, y0, run.Gradient.Schedule!, saveAt.FirstSavedIndex, cotangent);
        double ey = GradientCheck.MaxRelativeToLargest(run.GradY0, reference.GradY0), et = GradientCheck.MaxRelativeToLargest(run.GradTheta, reference.GradTheta);
        TestContext.Out.WriteLine($"MLP: dL/dy0 rel {ey:E2}, dL/dtheta rel {et:E2}");
        Assert.That(ey, Is.LessThan(1e-10));
        Assert.That(et, Is.LessThan(1e-10));
        Assert.That(run.Stats.VectorJacobianProducts, Is.EqualTo(run.Stats.Steps + 1), "one VJP per step and one at t0");
    }

    [Test]
    public void Gradient_AddsIntoGradTheta_AndOverwritesGradY0AndGradTimes()
    {
        var f = SmallMlp();
        double[] y0 = GradientCheck.Random(Batch * Width, DataSeed);
        var saveAt = SaveAt.End(0, 0.5);
        var cotangent = GradientCheck.Random(Batch * Width, DataSeed + 1);
        var gradient = Reversible.CreateGradient<double>();
        var output = new double[Batch * Width];
        gradient.Forward(f, y0, saveAt, new SolveOptions { StepSize = new FixedStep(0.1) }, output);
        var gradY0 = new double[y0.Length];
        var gradTheta = new double[f.Parameters.Length];
        var gradTimes = new double[2];
        gradient.Backward(cotangent, gradY0, gradTheta, gradTimes);
        double[] once = gradTheta.ToArray(), y0Once = gradY0.ToArray(), timesOnce = gradTimes.ToArray();
        gradient.Backward(cotangent, gradY0, gradTheta, gradTimes);
        for (int i = 0; i < once.Length; i++) Assert.That(gradTheta[i], Is.EqualTo(2 * once[i]).Within(1e-14 * (1 + Math.Abs(once[i]))));
        Assert.That(gradY0, Is.EqualTo(y0Once), "a second Backward after one Forward gives the same dL/dy0");
        Assert.That(gradTimes, Is.EqualTo(timesOnce));
    }

    [Test]
    public void Gradient_MatchesTheClosedForm_OfZPrimeEqualsThetaZ_AtSecondOrder()
    {
        // z' = θz, L = z(T): dL/dθ = T·z0·e^{θT}, dL/dz0 = e^{θT}, dL/dT = θ·z(T), dL/dt0 = −θ·z0·e^{θT}.
        const double theta = 0.7, z0 = 1.3, T = 1.0;
        double exact = Math.Exp(theta * T);
        (double ErrTheta, double ErrZ0, double ErrT1, double ErrT0) Errors(double h)
        {
            var f = new ReversibleLinearDynamics([theta], [0]);
            var run = Differentiate(f, [z0], SaveAt.End(0, T), h, [1.0]);
            return (Math.Abs(run.GradTheta[0] - T * z0 * exact), Math.Abs(run.GradY0[0] - exact),
                Math.Abs(run.GradTimes[1] - theta * z0 * exact), Math.Abs(run.GradTimes[0] + theta * z0 * exact));
        }
        var coarse = Errors(0.02);
        var fine = Errors(0.01);
        TestContext.Out.WriteLine($"h = 0.02: {coarse}; h = 0.01: {fine}");
        Assert.That(coarse.ErrTheta, Is.LessThan(1e-3));
        Assert.That(Math.Log2(coarse.ErrTheta / fine.ErrTheta), Is.EqualTo(2).Within(0.15));
        Assert.That(Math.Log2(coarse.ErrZ0 / fine.ErrZ0), Is.EqualTo(2).Within(0.15));
        Assert.That(Math.Log2(coarse.ErrT1 / fine.ErrT1), Is.EqualTo(2).Within(0.15));
        Assert.That(Math.Log2(coarse.ErrT0 / fine.ErrT0), Is.EqualTo(2).Within(0.15));
    }

    [Test]
    public void GradTimes_AreTheContinuousFormulas_AtEverySavedTime_AndTheT0RowDoesNotMoveWithT0()
    {
        // z' = θz, L = z(t0) + z(0.5) + z(1) with t0 = 0: dL/dt_i = θ·z(t_i) for i ≥ 1; dL/dt0 = −θ·z0·(e^{θ/2} + e^{θ})
        // (the saved z(t0) is z0 whatever t0 is, so its cotangent does not enter dL/dt0), while dL/dz0 = 1 + e^{θ/2} + e^{θ}.
        const double theta = -0.4, z0 = 0.9;
        var f = new ReversibleLinearDynamics([theta], [0]);
        var run = Differentiate(f, [z0], SaveAt.Times(0, 0.5, 1.0), 0.001, [1.0, 1.0, 1.0]);
        double a = Math.Exp(theta / 2), b = Math.Exp(theta);
        Assert.That(run.GradTimes[1], Is.EqualTo(theta * run.Output[1]).Within(1e-15), "⟨cotangent, f(t1, y1)⟩ on the discrete y1");
        Assert.That(run.GradTimes[2], Is.EqualTo(theta * run.Output[2]).Within(1e-15));
        Assert.That(run.GradTimes[0], Is.EqualTo(-theta * (run.GradY0[0] - 1) * z0).Within(1e-15), "−⟨a(t0), f(t0, y0)⟩ without the direct t0 row");
        Assert.That(run.GradTimes[0], Is.EqualTo(-theta * z0 * (a + b)).Within(1e-6));
        Assert.That(run.GradY0[0], Is.EqualTo(1 + a + b).Within(1e-6));
    }

    [Test]
    public void Gradient_MatchesCentralFiniteDifferencesOfTheDiscreteSolve_InThetaAndY0()
    {
        var f = SmallMlp();
        double[] y0 = GradientCheck.Random(Batch * Width, DataSeed);
        var saveAt = SaveAt.Times(0, 0.4, 0.8);
        const double h = 0.05, eps = 1e-6;
        var cotangent = GradientCheck.Random(saveAt.Count * Batch * Width, DataSeed + 1);
        var run = Differentiate(f, y0, saveAt, h, cotangent);
        var solver = new ReversibleHeun<double>(f);
        double Loss() => L(solver.Solve(y0, saveAt, new FixedStep(h)).Values.ToArray(), cotangent);

        double worst = 0;
        Span<double> theta = f.Parameters.Values;
        for (int i = 0; i < theta.Length; i++)
        {
            double saved = theta[i];
            theta[i] = saved + eps;
            double plus = Loss();
            theta[i] = saved - eps;
            double minus = Loss();
            theta[i] = saved;
            double numeric = (plus - minus) / (2 * eps);
            worst = Math.Max(worst, Math.Abs(run.GradTheta[i] - numeric) / Math.Max(1, Math.Abs(numeric)));
        }
        for (int i = 0; i < y0.Length; i++)
        {
            double saved = y0[i];
            y0[i] = saved + eps;
            double plus = Loss();
            y0[i] = saved - eps;
            double minus = Loss();
            y0[i] = saved;
            double numeric = (plus - minus) / (2 * eps);
            worst = Math.Max(worst, Math.Abs(run.GradY0[i] - numeric) / Math.Max(1, Math.Abs(numeric)));
        }
        TestContext.Out.WriteLine($"finite differences: worst relative error {worst:E2} over {theta.Length} parameters and {y0.Length} states");
        Assert.That(worst, Is.LessThan(1e-7));
    }

    [Test]
    public void ForwardAndBackward_AllocateTheSameWhateverTheStepCount_O1Memory()
    {
        var f = SmallMlp();
        double[] y0 = GradientCheck.Random(Batch * Width, DataSeed);
        var cotangent = GradientCheck.Random(Batch * Width, DataSeed + 1);
        var gradient = Reversible.CreateGradient<double>();
        var output = new double[Batch * Width];
        var gradY0 = new double[y0.Length];
        var gradTheta = new double[f.Parameters.Length];
        var gradTimes = new double[2];
        long Allocated(double h)
        {
            var options = new SolveOptions { StepSize = new FixedStep(h) };
            var saveAt = SaveAt.End(0, 1);
            return AllocationWindows.Quietest(() =>
            {
                gradient.Forward(f, y0, saveAt, options, output);
                gradient.Backward(cotangent, gradY0, gradTheta, gradTimes);
            });
        }
        Allocated(0.1);
        long few = Allocated(0.1), many = Allocated(0.001);
        TestContext.Out.WriteLine($"allocated: 10 steps {few} B, 1000 steps {many} B");
        Assert.That(many, Is.LessThanOrEqualTo(few), "nothing is kept per step (only a per-solve schedule of one int per interval)");
    }

    [Test]
    public void Gradient_InFloat_AgreesWithDouble()
    {
        var fd = SmallMlp();
        var netF = Mlp.Create<float>(Width, [16], Width, Activation.Tanh, TimeInput.Concat, NetworkSeed);
        var ff = new MlpDynamics<float>(netF, Batch);
        for (int i = 0; i < fd.Parameters.Length; i++) ff.Parameters.Values[i] = (float)fd.Parameters.Values[i];
        double[] y0 = GradientCheck.Random(Batch * Width, DataSeed);
        var cotangent = GradientCheck.Random(Batch * Width, DataSeed + 1);
        var run = Differentiate(fd, y0, SaveAt.End(0, 1), 0.05, cotangent);

        var gradient = Reversible.CreateGradient<float>();
        var output = new float[Batch * Width];
        gradient.Forward(ff, y0.Select(v => (float)v).ToArray(), SaveAt.End(0, 1), new SolveOptions { StepSize = new FixedStep(0.05) }, output);
        var gradY0 = new float[y0.Length];
        var gradTheta = new float[ff.Parameters.Length];
        gradient.Backward(cotangent.Select(v => (float)v).ToArray(), gradY0, gradTheta, new double[2]);
        Assert.That(GradientCheck.MaxRelativeToLargest(gradY0.Select(v => (double)v).ToArray(), run.GradY0), Is.LessThan(1e-4));
        Assert.That(GradientCheck.MaxRelativeToLargest(gradTheta.Select(v => (double)v).ToArray(), run.GradTheta), Is.LessThan(1e-4));
    }

    [Test]
    public void Forward_RefusesAnotherMethod_WithAMessageNamingIt()
    {
        var gradient = Reversible.CreateGradient<double>();
        var options = new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(0.1) };
        var ex = Assert.Throws<ArgumentException>(() => gradient.Forward(SmallMlp(), new double[Batch * Width], SaveAt.End(0, 1), options, new double[Batch * Width]));
        Assert.That(ex!.ParamName, Is.EqualTo("options"));
        Assert.That(ex.Message, Does.Contain("ReversibleHeun").And.Contain(Tableaus.RungeKutta4.Name));
    }

    [Test]
    public void Forward_RefusesAChosenMethod_EvenTheDefaultTableau_FromTheOptionsContent()
    {
        // "No method chosen" is read from the options themselves, not from the tableau's identity.
        var gradient = Reversible.CreateGradient<double>();
        var unset = new SolveOptions { StepSize = new FixedStep(0.1) };
        var output = new double[Batch * Width];
        Assert.DoesNotThrow(() => gradient.Forward(SmallMlp(), new double[Batch * Width], SaveAt.End(0, 1), unset with { MaxSteps = 50 }, output));
        var chosen = unset with { Method = Tableaus.DormandPrince54 };
        var ex = Assert.Throws<ArgumentException>(() => gradient.Forward(SmallMlp(), new double[Batch * Width], SaveAt.End(0, 1), chosen, output));
        Assert.That(ex!.Message, Does.Contain(Tableaus.DormandPrince54.Name).And.Contain("leave Method unset"));
    }

    [Test]
    public void Forward_RefusesAdaptiveSteps_AndOptionsItCannotHonour()
    {
        var gradient = Reversible.CreateGradient<double>();
        var f = SmallMlp();
        void Check(SolveOptions options, string fragment)
        {
            var ex = Assert.Throws<ArgumentException>(() => gradient.Forward(f, new double[Batch * Width], SaveAt.End(0, 1), options, new double[Batch * Width]));
            Assert.That(ex!.ParamName, Is.EqualTo("options"));
            Assert.That(ex.Message, Does.Contain(fragment));
        }
        Check(new SolveOptions(), "FixedStep");
        Check(new SolveOptions { StepSize = new FixedStep(0.1), StepPastEnd = true }, "StepPastEnd");
        Check(new SolveOptions { StepSize = new FixedStep(0.1), JumpTimes = [0.5] }, "JumpTimes");
        Check(new SolveOptions { StepSize = new FixedStep(0.1), DenseOutput = true }, "DenseOutput");
    }

    [Test]
    public void Forward_ThrowsForNaNInitialState_NamingY0AndTheValue()
    {
        var gradient = Reversible.CreateGradient<double>();
        var y0 = new double[Batch * Width];
        y0[4] = double.PositiveInfinity;
        var ex = Assert.Throws<ArgumentException>(() => gradient.Forward(SmallMlp(), y0, SaveAt.End(0, 1), new SolveOptions { StepSize = new FixedStep(0.1) }, new double[y0.Length]));
        Assert.That(ex!.ParamName, Is.EqualTo("y0"));
        Assert.That(ex.Message, Does.Contain("y0[4]").And.Contain("Infinity").Or.Contain("∞"));
    }

    [Test]
    public void Backward_AfterAFailedForward_Throws()
    {
        // z' = θz with θ = 1e200 from z0 = 1e200 overflows: the forward stops with NonFiniteState and leaves nothing to differentiate.
        var f = new ReversibleLinearDynamics([1.0], [0]);
        var gradient = Reversible.CreateGradient<double>();
        var output = new double[1];
        gradient.Forward(f, [1.0], SaveAt.End(0, 1), new SolveOptions { StepSize = new FixedStep(0.1) }, output);
        f.Parameters.Values[0] = 1e200;
        var ex = Assert.Throws<OdeSolverException>(() => gradient.Forward(f, [1e200], SaveAt.End(0, 1), new SolveOptions { StepSize = new FixedStep(0.1) }, output));
        Assert.That(ex!.Reason, Is.EqualTo(SolveFailure.NonFiniteState));
        Assert.Throws<InvalidOperationException>(() => gradient.Backward([1.0], new double[1], new double[2], new double[2]));
    }

    [Test]
    public void Backward_BeforeForward_Throws()
    {
        var gradient = Reversible.CreateGradient<double>();
        Assert.Throws<InvalidOperationException>(() => gradient.Backward(new double[2], new double[2], new double[2], new double[2]));
    }
}
