using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core.Data;
using NeuralOde.Core.Flows;

namespace NeuralOde.Tests.Flows;

/// <summary>A short seeded training run on 8 Gaussians lowers the held-out NLL, reproducibly.</summary>
public class CnfTrainingTests
{
    private const int Iterations = 40;

    private static (double[] Losses, double HeldOutBefore, double HeldOutAfter, List<CnfProgress> Reports) Run(CancellationToken token = default)
    {
        var field = new MlpVelocityField<float>(Mlp.Create<float>(2, [32, 32], 2, Activation.Tanh, TimeInput.ConcatSquash, seed: 0));
        var cnf = new Cnf<float>(field, new CnfOptions { EndTime = 0.5, TrainingDivergence = new HutchinsonDivergence(ProbeNoise.Rademacher) });
        float[] heldOut = Toy2D.Sample<float>(Toy2DSet.EightGaussians, 500, seed: 12345);
        double before = -cnf.LogProb(heldOut).Average(v => (double)v);
        var random = new Random(0);
        var reports = new List<CnfProgress>();
        var losses = CnfTrainer.Train(cnf, n => Toy2D.Sample<float>(Toy2DSet.EightGaussians, n, random),
            new CnfTrainingOptions { Iterations = Iterations, BatchSize = 128, LearningRate = 1e-2, NoiseSeed = 1, ReportEvery = 10 },
            new SynchronousProgress(reports), token);
        double after = -cnf.LogProb(heldOut).Average(v => (double)v);
        return (losses, before, after, reports);
    }

    [Test]
    public void EightGaussians_ShortRun_LowersHeldOutNll_AndIsBitwiseReproducible()
    {
        var first = Run();
        var second = Run();
        TestContext.Out.WriteLine($"held-out NLL: {first.HeldOutBefore:F4} → {first.HeldOutAfter:F4} after {Iterations} iterations; last report {first.Reports[^1]}");
        Assert.That(first.HeldOutAfter, Is.LessThan(first.HeldOutBefore - 0.5));
        Assert.That(first.HeldOutAfter, Is.LessThan(4.3), "held-out NLL after 40 iterations (measured 3.67; 5.91 before)");
        Assert.That(second.Losses, Is.EqualTo(first.Losses), "two runs with the same seeds give bitwise-identical losses");
        Assert.That(first.Reports.Select(r => r.Iteration), Is.EqualTo(new[] { 10, 20, 30, 40 }));
        Assert.That(first.Reports.All(r => r.ForwardEvaluations > 0 && r.IterationsPerSecond > 0));
    }

    [Test]
    public void Training_HonoursCancellation()
    {
        var field = new MlpVelocityField<float>(Mlp.Create<float>(2, [8], 2, Activation.Tanh, TimeInput.ConcatSquash, seed: 0));
        var cnf = new Cnf<float>(field);
        using var source = new CancellationTokenSource();
        int calls = 0;
        Assert.Throws<OperationCanceledException>(() => CnfTrainer.Train(cnf, n =>
        {
            if (++calls == 3) source.Cancel();
            return Toy2D.Sample<float>(Toy2DSet.Moons, n, calls);
        }, new CnfTrainingOptions { Iterations = 100, BatchSize = 16 }, null, source.Token));
        Assert.That(calls, Is.EqualTo(3));
    }

    /// <summary>Collects reports on the calling thread (Progress&lt;T&gt; would post them to a thread pool).</summary>
    private sealed class SynchronousProgress(List<CnfProgress> reports) : IProgress<CnfProgress>
    {
        public void Report(CnfProgress value) => reports.Add(value);
    }
}
