using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Data;
using NeuralOde.Core.Flows;

namespace NeuralOde.Tests.Flows;

/// <summary>An untrained flow is still a density: it integrates to one, and x → z → x round-trips.</summary>
public class CnfDensityTests
{
    [Test]
    public void UntrainedFlow_DensityOnAGrid_IntegratesToOne()
    {
        var field = new MlpVelocityField<float>(Mlp.Create<float>(2, [32, 32], 2, Activation.Tanh, TimeInput.ConcatSquash, seed: 4));
        var cnf = new Cnf<float>(field, new CnfOptions { EndTime = 1.0 });
        const int points = 121;
        const double lo = -6, hi = 6;
        float[] logp = cnf.LogProbGrid(lo, hi, lo, hi, points);
        double cell = (hi - lo) / (points - 1);
        double mass = logp.Sum(v => Math.Exp(v)) * cell * cell;
        TestContext.Out.WriteLine($"∫ p over [−6, 6]²: {mass:F5}");
        Assert.That(mass, Is.EqualTo(1.0).Within(0.01));
    }

    [Test]
    public void Transform_ThenInverse_RoundTripsToSolverTolerance_AndSampleIsInverseOfBaseDraws()
    {
        var field = new MlpVelocityField<double>(Mlp.Create<double>(2, [16, 16], 2, Activation.Tanh, TimeInput.ConcatSquash, seed: 5));
        var cnf = new Cnf<double>(field, new CnfOptions { Solver = SolveOptions.Torchdiffeq(1e-9, 1e-9) });
        double[] x = Toy2D.Sample<double>(Toy2DSet.Pinwheel, 50, seed: 1);
        double[] back = cnf.Inverse(cnf.Transform(x));
        double worst = x.Zip(back, (a, b) => Math.Abs(a - b)).Max();
        TestContext.Out.WriteLine($"round trip: max |x − x'| = {worst:E2}");
        Assert.That(worst, Is.LessThan(1e-6));

        double[] samples = cnf.Sample(20, seed: 3);
        double[] z = cnf.Base.Sample<double>(20, seed: 3);
        double[] forward = cnf.Transform(samples);
        Assert.That(forward.Zip(z, (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(1e-6));
    }

    [Test]
    public void Toy2D_EverySetIsSeeded_FiniteAndOfFfjordsScale()
    {
        foreach (var set in Toy2D.All)
        {
            float[] a = Toy2D.Sample<float>(set, 501, seed: 7);
            float[] b = Toy2D.Sample<float>(set, 501, seed: 7);
            Assert.That(a, Is.EqualTo(b), $"{set} is seeded");
            Assert.That(a.Length, Is.EqualTo(1002));
            Assert.That(a.All(float.IsFinite), $"{set} is finite");
            double maxAbs = a.Max(Math.Abs);
            Assert.That(maxAbs, Is.InRange(1.0, 6.0), $"{set}: max |coordinate| {maxAbs}");
        }
        // 8 Gaussians: centres at radius 4/1.414, so the mean radius is about 2.83.
        float[] g = Toy2D.Sample<float>(Toy2DSet.EightGaussians, 4000, seed: 1);
        double radius = Enumerable.Range(0, 4000).Average(i => Math.Sqrt(g[2 * i] * g[2 * i] + g[2 * i + 1] * g[2 * i + 1]));
        Assert.That(radius, Is.EqualTo(4 / 1.414).Within(0.1));
    }

    [Test]
    public void BadInput_ThrowsClearExceptions()
    {
        var field = new MlpVelocityField<float>(Mlp.Create<float>(2, [8], 2, Activation.Tanh, TimeInput.ConcatSquash, seed: 1));
        var cnf = new Cnf<float>(field);
        var wrongDimension = Assert.Throws<ArgumentException>(() => cnf.LogProb([1f, 2f, 3f]));
        Assert.That(wrongDimension!.Message, Does.Contain("2-dimensional"));
        var nan = Assert.Throws<ArgumentException>(() => cnf.LogProb([1f, float.NaN]));
        Assert.That(nan!.Message, Does.Contain("non-finite"));
        Assert.Throws<ArgumentException>(() => cnf.Forward(new Tape<float>(), [0f, 1f, float.PositiveInfinity, 0f], noiseSeed: 0));
        Assert.Throws<ArgumentException>(() => cnf.LogProb([]));

        var zero = Assert.Throws<ArgumentException>(() => new Cnf<float>(field, new CnfOptions { EndTime = 0 }));
        Assert.That(zero!.Message, Does.Contain("non-zero"));
        Assert.Throws<ArgumentException>(() => new Cnf<float>(field, new CnfOptions { EndTime = double.NaN }));
        var negative = Assert.Throws<ArgumentException>(() => new Cnf<float>(
            new MlpVelocityField<float>(Mlp.Create<float>(2, [8], 2, Activation.Tanh, TimeInput.ConcatSquash, seed: 1)),
            new CnfOptions { EndTime = -0.5, LearnEndTime = true }));
        Assert.That(negative!.Message, Does.Contain("positive"));
        Assert.Throws<ArgumentException>(() => new Cnf<float>(field, new CnfOptions { Base = BaseDistribution.StandardNormal(3) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => BaseDistribution.IsotropicGaussian(2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HutchinsonDivergence(ProbeNoise.Rademacher, probes: 0));
        Assert.Throws<ArgumentException>(() => cnf.Forward(new Tape<float>(), [0f, 1f], probes: [1f], divergence: new HutchinsonDivergence()));
        var nanProbe = Assert.Throws<ArgumentException>(() => cnf.Forward(new Tape<float>(), [0f, 1f], probes: [1f, float.NaN], divergence: new HutchinsonDivergence()));
        Assert.That(nanProbe!.ParamName, Is.EqualTo("probes"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Cnf<float>(field, new CnfOptions { Regularization = new CnfRegularization(-1, 0) }));
    }
}
