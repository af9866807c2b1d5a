using System.Diagnostics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Kernels;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.Benchmarks.PeerWorkloads;

/// <summary>
/// W6: the MLP 3→64→64→64→2 tanh at batch 512 (fixture weights and input), forward and forward + backward of
/// sum(net(x)) into the parameter gradients; and the 512×64·64×64 matrix product. Each repeat is the mean of many
/// back-to-back calls (300 forward, 100 forward + backward, 1200 products), 5 repeats.
/// </summary>
internal sealed class W6MlpThroughput : IPeerWorkload
{
    private const int Batch = 512;
    private const double ForwardFlops = 8.716e6;
    private const double ForwardBackwardFlops = 25.95e6;
    private const double ProductFlops = 2.0 * 512 * 64 * 64;

    public string Name => "W6";

    public IEnumerable<PeerResult> Run(bool quick)
    {
        var fixture = FixtureFile.Load("w6");
        var network = Mlp.Create<float>(3, [64, 64, 64], 2, Activation.Tanh, TimeInput.None, seed: 0);
        fixture.LoadInto(network.Parameters);
        var input = fixture.Array<float>("x");
        var tape = new Tape<float>();
        int repeats = quick ? 3 : 5;

        void Forward()
        {
            tape.Reset();
            _ = network.Forward(tape, tape.Constant(input, new Shape(Batch, 3)), 0f);
        }

        void ForwardBackward()
        {
            tape.Reset();
            network.Parameters.ZeroGradients();
            tape.Backward(Ops.Sum(network.Forward(tape, tape.Constant(input, new Shape(Batch, 3)), 0f)));
        }

        var a = new float[512 * 64];
        var b = new float[64 * 64];
        var c = new float[512 * 64];
        for (int i = 0; i < a.Length; i++) a[i] = (i % 17) * 0.01f;
        for (int i = 0; i < b.Length; i++) b[i] = (i % 13) * 0.01f;
        void Product() => Gemm.MultiplyNN<float>(a, b, c, 512, 64, 64, accumulate: false);

        var fwd = Measure(Forward, 300, repeats);
        var fwdBwd = Measure(ForwardBackward, 100, repeats);
        var mm = Measure(Product, 1200, repeats);
        yield return new PeerResult { Workload = Name, Mode = "mlp_fwd", Unit = "call", Seconds = fwd, GigaflopsPerSecond = ForwardFlops / fwd.Median / 1e9 };
        yield return new PeerResult { Workload = Name, Mode = "mlp_fwd_bwd", Unit = "call", Seconds = fwdBwd, GigaflopsPerSecond = ForwardBackwardFlops / fwdBwd.Median / 1e9, PeerSeconds = 796e-6 };
        yield return new PeerResult { Workload = Name, Mode = "mm 512x64·64x64", Unit = "call", Seconds = mm, GigaflopsPerSecond = ProductFlops / mm.Median / 1e9 };
    }

    /// <summary>Warms up, then times <paramref name="repeats"/> batches of <paramref name="calls"/> calls; each repeat's mean.</summary>
    internal static Timing Measure(Action action, int calls, int repeats)
    {
        for (int i = 0; i < Math.Max(10, calls / 4); i++) action();
        var means = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++) action();
            means.Add(Stopwatch.GetElapsedTime(start).TotalSeconds / calls);
        }
        return Timing.Of(means);
    }
}
