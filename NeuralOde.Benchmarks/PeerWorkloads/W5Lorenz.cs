using System.Diagnostics;
using NeuralOde.Benchmarks.Solvers;

namespace NeuralOde.Benchmarks.PeerWorkloads;

/// <summary>
/// W5: Lorenz over t ∈ [0, 20] in double, Dormand–Prince 5(4) at rtol 1e-8, atol 1e-10: batch 1; 1024 initial
/// conditions as one system with a shared step; the same 1024 solved independently on the worker pool. One warm-up
/// and 5 timed runs each (the same cases as <see cref="LorenzBench"/>).
/// </summary>
internal sealed class W5Lorenz : IPeerWorkload
{
    public string Name => "W5";

    public IEnumerable<PeerResult> Run(bool quick)
    {
        var bench = new LorenzBench();
        bench.Setup();
        int repeats = quick ? 3 : 5;
        yield return Row("batch 1", () => bench.Batch1(), repeats, 0.083);
        yield return Row("1024 shared step", () => bench.SharedStep1024(), repeats, 3.06);
        yield return Row("1024 independent", () => bench.Independent1024(), repeats, null);
    }

    private PeerResult Row(string mode, Func<long> solve, int repeats, double? peer)
    {
        long nfe = solve();
        var seconds = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            solve();
            seconds.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return new PeerResult { Workload = Name, Mode = mode, Unit = "solve", Seconds = Timing.Of(seconds), NfeF = nfe, NfeB = 0, PeerSeconds = peer };
    }
}
