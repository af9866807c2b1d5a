using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>The continuous adjoint against closed forms and finite differences of independent solves, in double.</summary>
public class AdjointClosedFormTests
{
    private static readonly SolveOptions Tight = new() { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-12 };

    [TestCase(0.0, 1.5)]
    [TestCase(2.0, 0.5)]
    public void ScalarGrowth_GradientsMatchTheClosedForm(double t0, double t1)
    {
        const double theta = 0.7, z0 = 1.3;
        var f = new ScalarGrowth(theta);
        var run = AdjointRun<double>.Run(new Adjoint(), f, [z0], SaveAt.Times(t0, t1), Tight, output => [0.0, 1.0]);

        double span = t1 - t0, zT = z0 * Math.Exp(theta * span);
        Assert.That(run.Output[1], Is.EqualTo(zT).Within(1e-7).Percent);
        Assert.That(run.GradTheta[0], Is.EqualTo(span * zT).Within(1e-6).Percent, "dL/dθ");
        Assert.That(run.GradY0[0], Is.EqualTo(Math.Exp(theta * span)).Within(1e-6).Percent, "dL/dz0");
        Assert.That(run.GradTimes[1], Is.EqualTo(theta * zT).Within(1e-6).Percent, "dL/dT");
        Assert.That(run.GradTimes[0], Is.EqualTo(-theta * zT).Within(1e-6).Percent, "dL/dt0");
    }

    [TestCase(0.0, 0.5, 1.2, false)]
    [TestCase(0.0, 0.5, 1.2, true)]
    [TestCase(3.0, 2.0, 0.5, false)]
    [TestCase(3.0, 2.0, 0.5, true)]
    public void ScalarGrowth_TrajectoryLoss_JumpsAtEveryObservationTimeAndGivesEachTimeItsGradient(double t0, double t1, double t2, bool torchdiffeqCompatible)
    {
        // L = z(t1) + 2·z(t2) with z(t) = z0·e^{θ(t − t0)}.
        const double theta = -0.4, z0 = 0.9;
        var f = new ScalarGrowth(theta);
        var adjoint = new Adjoint { TorchdiffeqCompatible = torchdiffeqCompatible };
        var run = AdjointRun<double>.Run(adjoint, f, [z0], SaveAt.Times(t0, t1, t2), Tight, output => [0.0, 1.0, 2.0]);

        double z1 = z0 * Math.Exp(theta * (t1 - t0)), z2 = z0 * Math.Exp(theta * (t2 - t0));
        Assert.That(run.GradTheta[0], Is.EqualTo((t1 - t0) * z1 + 2 * (t2 - t0) * z2).Within(1e-6).Percent, "dL/dθ");
        Assert.That(run.GradY0[0], Is.EqualTo((z1 + 2 * z2) / z0).Within(1e-6).Percent, "dL/dz0");
        Assert.That(run.GradTimes[1], Is.EqualTo(theta * z1).Within(1e-6).Percent, "dL/dt1");
        Assert.That(run.GradTimes[2], Is.EqualTo(2 * theta * z2).Within(1e-6).Percent, "dL/dt2");
        Assert.That(run.GradTimes[0], Is.EqualTo(-theta * (z1 + 2 * z2)).Within(1e-6).Percent, "dL/dt0");
    }

    [Test]
    public void Backward_AfterWarmUp_AllocatesNothingPerEvaluation()
    {
        var f = new MlpDynamics<double>(Mlp.Create<double>(2, [16], 2, Activation.Tanh, TimeInput.Concat, seed: 5), 4);
        var gradient = new AdjointGradient<double>(new Adjoint());
        var options = new SolveOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-10 };
        SaveAt saveAt = SaveAt.Times(0, 0.5, 1, 2);
        double[] y0 = GradientCheck.Random(8, seed: 6), output = new double[32], cotangent = GradientCheck.Random(32, seed: 7);
        double[] gradY0 = new double[8], gradTheta = new double[f.Parameters.Length], gradTimes = new double[4];
        gradient.Forward(f, y0, saveAt, options, output);
        gradient.Backward(cotangent, gradY0, gradTheta, gradTimes);

        GradientStats stats = default;
        long allocated = AllocationWindows.Quietest(
            () => stats = gradient.Backward(cotangent, gradY0, gradTheta, gradTimes),
            setup: () => gradient.Forward(f, y0, saveAt, options, output));
        TestContext.Out.WriteLine($"{stats.FunctionEvaluations} backward evaluations allocated {allocated} bytes");
        Assert.That(stats.FunctionEvaluations, Is.GreaterThan(20));
        Assert.That(allocated, Is.EqualTo(0));
    }

    [Test]
    public void LinearSystem_GradientWithRespectToTheMatrixMatchesFiniteDifferencesOfAFineRk4Solve()
    {
        double[] a = GradientCheck.Random(9, seed: 11, lo: -0.8, hi: 0.8);
        double[] z0 = GradientCheck.Random(3, seed: 12);
        double[] w = GradientCheck.Random(3, seed: 13);
        var run = AdjointRun<double>.Run(new Adjoint(), new LinearSystemDynamics(a), z0, SaveAt.End(0, 1), Tight, output => w);

        const double h = 1e-5;
        double scale = run.GradTheta.Max(Math.Abs);
        for (int k = 0; k < 9; k++)
        {
            double saved = a[k];
            a[k] = saved + h;
            double plus = Rk4Loss(a, z0, w);
            a[k] = saved - h;
            double minus = Rk4Loss(a, z0, w);
            a[k] = saved;
            double numeric = (plus - minus) / (2 * h);
            Assert.That(run.GradTheta[k], Is.EqualTo(numeric).Within(1e-7 * scale), $"dL/dA[{k / 3},{k % 3}]");
        }
        // dL/dz0 = e^{Aᵀ}·w: check against differences in z0 as well.
        for (int k = 0; k < 3; k++)
        {
            double saved = z0[k];
            z0[k] = saved + h;
            double plus = Rk4Loss(a, z0, w);
            z0[k] = saved - h;
            double minus = Rk4Loss(a, z0, w);
            z0[k] = saved;
            Assert.That(run.GradY0[k], Is.EqualTo((plus - minus) / (2 * h)).Within(1e-7 * scale), $"dL/dz0[{k}]");
        }
    }

    /// <summary>w·z(1) for z' = Az by classic RK4 with 400 steps (an independent, hand-written solve).</summary>
    private static double Rk4Loss(double[] a, double[] z0, double[] w)
    {
        var f = new LinearSystemDynamics(a);
        var sol = Ode.Solve<double>(f, z0, SaveAt.End(0, 1), new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(1.0 / 400) });
        ReadOnlySpan<double> z = sol.States[0];
        return w[0] * z[0] + w[1] * z[1] + w[2] * z[2];
    }
}
