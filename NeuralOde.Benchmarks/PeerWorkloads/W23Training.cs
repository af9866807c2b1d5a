using System.Diagnostics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core.Data;
using NeuralOde.Core.Flows;
using NeuralOde.Core.Sensitivity;

namespace NeuralOde.Benchmarks.PeerWorkloads;

/// <summary>
/// The training runs of W2 (exact trace, circles, backprop, 1000 iterations, held-out NLL after 300 and 1000) and W3
/// (Hutchinson, 8 Gaussians, torchdiffeq-compatible adjoint, 500 iterations, held-out exact NLL at 0 and 500), as
/// ../shared/peer-workloads.md writes them: batch 512, Adam lr 1e-3 without weight decay, dopri5 at rtol = atol = 1e-5,
/// a new batch each iteration, 5000 held-out points from a fixed seed (12345) scored with the exact trace.
/// </summary>
/// <remarks>
/// Seed s draws the batches (and W3's Rademacher probes) from streams seeded by s; seed 0 starts from the peer's own
/// initial weights (the fixture's), other seeds from <see cref="Mlp.Create{T}"/>'s PyTorch-style init with seed s. The
/// random streams are .NET's, so batches differ from NumPy's draw for draw while the distributions are the same; the
/// targets compare the median over seeds with the peer plus its seed noise. Timings exclude the held-out evaluations.
/// </remarks>
internal sealed class W23Training : IPeerWorkload
{
    public string Name => "W2/W3 training";

    private const int BatchSize = 512;
    private const int HeldOutSize = 5000;
    private const int HeldOutSeed = 12345;

    public IEnumerable<PeerResult> Run(bool quick)
    {
        int[] seeds = quick ? [0] : [0, 1, 2];
        foreach (var row in Workload("W2", seeds, iterations: 1000, checkpoints: [300, 1000], peerSeconds: null)) yield return row;
        foreach (var row in Workload("W3", seeds, iterations: 500, checkpoints: [0, 500], peerSeconds: 0.163)) yield return row;
    }

    private static IEnumerable<PeerResult> Workload(string workload, int[] seeds, int iterations, int[] checkpoints, double? peerSeconds)
    {
        bool w2 = workload == "W2";
        string mode = w2 ? "backprop train" : "adjoint train";
        var allSeconds = new List<double>();
        var nfeF = new List<long>();
        var nfeB = new List<long>();
        var nll = checkpoints.ToDictionary(c => c, _ => new List<double>());
        foreach (int seed in seeds)
        {
            Console.Error.WriteLine($"  {workload} training, seed {seed} …");
            var run = Train(w2, seed, iterations, checkpoints);
            allSeconds.AddRange(run.Seconds);
            nfeF.AddRange(run.NfeF);
            nfeB.AddRange(run.NfeB);
            foreach (int c in checkpoints)
            {
                nll[c].Add(run.Nll[c]);
                yield return new PeerResult
                {
                    Workload = workload, Mode = $"{mode} seed={seed}", Unit = "iteration", Seconds = Timing.Of(run.Seconds),
                    NfeF = Median(run.NfeF), NfeB = Median(run.NfeB), Metric = new Metric($"nll@{c}", run.Nll[c]), PeerSeconds = peerSeconds,
                };
            }
        }
        foreach (int c in checkpoints)
        {
            yield return new PeerResult
            {
                Workload = workload, Mode = $"{mode}, median of {seeds.Length} seed(s)", Unit = "iteration", Seconds = Timing.Of(allSeconds),
                NfeF = Median(nfeF), NfeB = Median(nfeB), Metric = new Metric($"nll@{c}", Timing.Of(nll[c]).Median), PeerSeconds = peerSeconds,
            };
        }
    }

    private sealed record TrainingRun(List<double> Seconds, List<long> NfeF, List<long> NfeB, Dictionary<int, double> Nll);

    private static TrainingRun Train(bool w2, int seed, int iterations, int[] checkpoints)
    {
        var network = Mlp.Create<float>(2, [64, 64, 64], 2, Activation.Tanh, TimeInput.Concat, seed: seed);
        if (seed == 0) FixtureFile.Load(w2 ? "w2" : "w3").LoadInto(network.Parameters);
        var cnf = new Cnf<float>(new MlpVelocityField<float>(network), w2
            ? new CnfOptions { StartTime = 10, EndTime = 0, Base = BaseDistribution.IsotropicGaussian(2, 0.1) }
            : new CnfOptions { EndTime = 0.5, TrainingDivergence = new HutchinsonDivergence(ProbeNoise.Rademacher) });
        var heldOut = w2 ? Circles(HeldOutSize, new Random(HeldOutSeed)) : Toy2D.Sample<float>(Toy2DSet.EightGaussians, HeldOutSize, HeldOutSeed);
        var batches = new Random(seed);
        var run = new TrainingRun([], [], [], []);
        double HeldOutNll() => -cnf.LogProb(heldOut).Average(v => (double)v);

        if (checkpoints.Contains(0)) run.Nll[0] = HeldOutNll();
        long last = Stopwatch.GetTimestamp();
        var progress = new InlineProgress(p =>
        {
            run.Seconds.Add(Stopwatch.GetElapsedTime(last).TotalSeconds);
            run.NfeF.Add(p.ForwardEvaluations);
            run.NfeB.Add(p.BackwardEvaluations);
            if (checkpoints.Contains(p.Iteration)) run.Nll[p.Iteration] = HeldOutNll();
            last = Stopwatch.GetTimestamp();
        });
        var options = new CnfTrainingOptions
        {
            Iterations = iterations, BatchSize = BatchSize, LearningRate = 1e-3, WeightDecay = 0, NoiseSeed = seed,
            Sensitivity = w2 ? new Backprop() : new Adjoint { TorchdiffeqCompatible = true },
        };
        CnfTrainer.Train(cnf, n => w2 ? Circles(n, batches) : Toy2D.Sample<float>(Toy2DSet.EightGaussians, n, batches), options, progress);
        return run;
    }

    /// <summary>scikit-learn's <c>make_circles(n, noise=0.06, factor=0.5)</c> without the shuffle: half the points at evenly spaced angles on the unit circle, half on the radius-0.5 circle, plus N(0, 0.06²) noise.</summary>
    private static float[] Circles(int n, Random random)
    {
        int outer = n / 2, inner = n - outer;
        var points = new float[2 * n];
        for (int i = 0; i < n; i++)
        {
            bool isOuter = i < outer;
            int k = isOuter ? i : i - outer;
            double angle = 2 * Math.PI * k / (isOuter ? outer : inner);
            double radius = isOuter ? 1.0 : 0.5;
            points[2 * i] = (float)(radius * Math.Cos(angle) + 0.06 * SeededNormal.Next(random));
            points[2 * i + 1] = (float)(radius * Math.Sin(angle) + 0.06 * SeededNormal.Next(random));
        }
        return points;
    }

    private static long Median(List<long> values) => values.Count == 0 ? 0 : values.Order().ElementAt(values.Count / 2);

    /// <summary>Runs the callback on the training thread (unlike <see cref="Progress{T}"/>, which may post it elsewhere).</summary>
    private sealed class InlineProgress(Action<CnfProgress> report) : IProgress<CnfProgress>
    {
        public void Report(CnfProgress value) => report(value);
    }
}
