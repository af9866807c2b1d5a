using NeuralOde.Core;
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
        var f = new ScalarGrowthDynamics(theta);
        var run = AdjointRun<double>.Run(new Adjoint(), f, [z0], SaveAt.Times(t0, t1), Tight, output => [0.0, 1.0]);

        double span = t1 - t0, zT = z0 * Math.Exp(theta * span);
        Assert.That(run.Output[1], Is.EqualTo(zT).Within(1e-7).Percent);
        Assert.That(run.GradTheta[0], Is.EqualTo(span * zT).Within(1e-6).Percent, "dL/dθ");
        Assert.That(run.GradY0[0], Is.EqualTo(Math.Exp(theta * span)).Within(1e-6).Percent, "dL/dz0");
        Assert.That(run.GradTimes[1], Is.EqualTo(theta * zT).Within(1e-6).Percent, "dL/dT");
        Assert.That(run.GradTimes[0], Is.EqualTo(-theta * zT).Within(1e-6).Percent, "dL/dt0");
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
