using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core.Flows;

namespace NeuralOde.Tests.Flows;

/// <summary>The exact divergence is the trace of the Jacobian; Hutchinson's estimate is unbiased for it.</summary>
public class DivergenceTests
{
    private const int Dim = 3;
    private const int Seed = 11;
    private const double Time = 0.37;

    private static MlpVelocityField<double> Field() =>
        new(Mlp.Create<double>(Dim, [16, 16], Dim, Activation.Tanh, TimeInput.ConcatSquash, seed: Seed));

    private static double[] Points(int batch)
    {
        var random = new Random(Seed);
        return [.. Enumerable.Range(0, batch * Dim).Select(_ => 2 * random.NextDouble() - 1)];
    }

    /// <summary>The Jacobian of f at one point by central differences: J[i, k] = ∂f_i/∂z_k.</summary>
    private static double[,] FiniteDifferenceJacobian(CnfDynamics<double> f, double[] state, int point, int batch)
    {
        var j = new double[Dim, Dim];
        var plus = new double[f.Dimension];
        var minus = new double[f.Dimension];
        const double h = 1e-6;
        for (int k = 0; k < Dim; k++)
        {
            var yp = (double[])state.Clone();
            var ym = (double[])state.Clone();
            yp[point * Dim + k] += h;
            ym[point * Dim + k] -= h;
            f.Evaluate(Time, yp, plus);
            f.Evaluate(Time, ym, minus);
            for (int i = 0; i < Dim; i++) j[i, k] = (plus[point * Dim + i] - minus[point * Dim + i]) / (2 * h);
        }
        _ = batch;
        return j;
    }

    [Test]
    public void Exact_EqualsTheTraceOfAFiniteDifferenceJacobian_AndGivesExactFrobeniusAndKinetic()
    {
        const int batch = 5;
        var f = new CnfDynamics<double>(Field(), batch, Divergence.Exact, new CnfRegularization(1, 1), []);
        var state = new double[f.Dimension];
        Points(batch).CopyTo(state, 0);
        var dydt = new double[f.Dimension];
        f.Evaluate(Time, state, dydt);
        for (int b = 0; b < batch; b++)
        {
            var j = FiniteDifferenceJacobian(f, state, b, batch);
            double trace = 0, frobenius = 0, kinetic = 0;
            for (int i = 0; i < Dim; i++)
            {
                trace += j[i, i];
                kinetic += dydt[b * Dim + i] * dydt[b * Dim + i];
                for (int k = 0; k < Dim; k++) frobenius += j[i, k] * j[i, k];
            }
            Assert.That(-dydt[batch * Dim + b], Is.EqualTo(trace).Within(1e-7 * (1 + Math.Abs(trace))), $"trace at point {b}");
            Assert.That(dydt[batch * Dim + batch + b], Is.EqualTo(kinetic).Within(1e-12), $"kinetic at point {b}");
            Assert.That(dydt[batch * Dim + 2 * batch + b], Is.EqualTo(frobenius).Within(1e-7 * (1 + frobenius)), $"Frobenius at point {b}");
        }
    }

    [TestCase(ProbeNoise.Rademacher)]
    [TestCase(ProbeNoise.Gaussian)]
    public void Hutchinson_IsUnbiased_MeanOverProbesWithinThreeStandardErrors(ProbeNoise noise)
    {
        // One point repeated N times: every row gets its own probe, so one evaluation gives N independent estimates.
        const int n = 4000;
        double[] point = Points(1);
        var exact = new CnfDynamics<double>(Field(), 1, Divergence.Exact, default, []);
        var state1 = new double[exact.Dimension];
        point.CopyTo(state1, 0);
        var d1 = new double[exact.Dimension];
        exact.Evaluate(Time, state1, d1);
        double trace = -d1[Dim];

        foreach (int probes in new[] { 1, 3 })
        {
            var estimator = new HutchinsonDivergence(noise, probes);
            var probeValues = new double[probes * n * Dim];
            HutchinsonDivergence.Draw<double>(noise, seed: 1234 + probes, probeValues);
            var f = new CnfDynamics<double>(Field(), n, estimator, new CnfRegularization(0, 1), probeValues);
            var state = new double[f.Dimension];
            for (int b = 0; b < n; b++) point.CopyTo(state, b * Dim);
            var dydt = new double[f.Dimension];
            f.Evaluate(Time, state, dydt);
            double mean = 0, sq = 0;
            for (int b = 0; b < n; b++) mean += -dydt[n * Dim + b];
            mean /= n;
            for (int b = 0; b < n; b++) sq += Math.Pow(-dydt[n * Dim + b] - mean, 2);
            double standardError = Math.Sqrt(sq / (n - 1) / n);
            TestContext.Out.WriteLine($"{noise}, {probes} probe(s): mean {mean:F5} ± {standardError:F5}, exact {trace:F5}");
            Assert.That(Math.Abs(mean - trace), Is.LessThan(3 * standardError));
            Assert.That(standardError, Is.GreaterThan(0), "The estimates should vary between probes.");
        }
    }

    [Test]
    public void Hutchinson_SameSeedSameProbes_DifferentSeedDifferentProbes()
    {
        var a = new float[64];
        var b = new float[64];
        var c = new float[64];
        HutchinsonDivergence.Draw<float>(ProbeNoise.Rademacher, 5, a);
        HutchinsonDivergence.Draw<float>(ProbeNoise.Rademacher, 5, b);
        HutchinsonDivergence.Draw<float>(ProbeNoise.Rademacher, 6, c);
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a, Is.Not.EqualTo(c));
        Assert.That(a.All(v => v is 1f or -1f));
    }

    [Test]
    public void Record_IsDifferentiable_ItsGradientMatchesFiniteDifferences()
    {
        // d/dθ of Σ (weights ⊙ augmented dynamics), divergence and Frobenius included, by the tape vs central differences.
        const int batch = 3;
        var field = Field();
        var f = new CnfDynamics<double>(field, batch, Divergence.Exact, new CnfRegularization(0, 1), []);
        var state = new double[f.Dimension];
        Points(batch).CopyTo(state, 0);
        var random = new Random(3);
        double[] cotangent = [.. Enumerable.Range(0, f.Dimension).Select(_ => random.NextDouble() - 0.5)];
        var gradY = new double[f.Dimension];
        var gradTheta = new double[field.Parameters.Length];
        f.Vjp(Time, state, cotangent, gradY, gradTheta);

        double Objective()
        {
            var d = new double[f.Dimension];
            f.Evaluate(Time, state, d);
            return d.Zip(cotangent, (p, q) => p * q).Sum();
        }

        var values = field.Parameters.Values;
        for (int i = 0; i < values.Length; i += 37)
        {
            double saved = values[i];
            values[i] = saved + 1e-6;
            double up = Objective();
            values[i] = saved - 1e-6;
            double down = Objective();
            values[i] = saved;
            double fd = (up - down) / 2e-6;
            Assert.That(gradTheta[i], Is.EqualTo(fd).Within(1e-6 * (1 + Math.Abs(fd))), $"θ[{i}]");
        }
        for (int i = 0; i < batch * Dim; i++)
        {
            double saved = state[i];
            state[i] = saved + 1e-6;
            double up = Objective();
            state[i] = saved - 1e-6;
            double down = Objective();
            state[i] = saved;
            double fd = (up - down) / 2e-6;
            Assert.That(gradY[i], Is.EqualTo(fd).Within(1e-6 * (1 + Math.Abs(fd))), $"z[{i}]");
        }
    }
}
