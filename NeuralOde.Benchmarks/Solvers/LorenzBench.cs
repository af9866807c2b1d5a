using System.Numerics;
using BenchmarkDotNet.Attributes;
using NeuralOde.Core;
using NeuralOde.Core.Batch;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Benchmarks.Solvers;

/// <summary>Lorenz (σ = 10, ρ = 28, β = 8/3) for a batch of B rows.</summary>
internal sealed class LorenzDynamics<T>(int batch) : IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T Sigma = T.CreateTruncating(10.0), Rho = T.CreateTruncating(28.0), Beta = T.CreateTruncating(8.0 / 3.0);

    public int Dimension { get; } = 3 * batch;

    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        for (int i = 0; i + 2 < y.Length; i += 3)
        {
            T x = y[i], yy = y[i + 1], z = y[i + 2];
            dydt[i] = Sigma * (yy - x);
            dydt[i + 1] = x * (Rho - z) - yy;
            dydt[i + 2] = x * yy - Beta * z;
        }
    }
}

/// <summary>
/// W5 (peer-workloads.md): Lorenz from t = 0 to 20, y0 = (1, 1, 1), Dormand–Prince 5(4), rtol 1e-8, atol 1e-10, in
/// double. Batch 1; 1024 initial conditions y0[i] = [1 + i/1024, 1, 1] solved independently on the worker pool; and
/// the same 1024 as one system with a shared step. Targets: 1.7 ms, 1.0 s and 0.3 s.
/// </summary>
[MemoryDiagnoser]
public class LorenzBench
{
    private const int Count = 1024;
    private static readonly SolveOptions Options = new() { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-10 };
    private readonly SaveAt span = SaveAt.End(0, 20);
    private LorenzDynamics<double> single = null!, shared = null!;
    private double[] batchInitial = [];
    private double[] independentStates = [];
    private SolveStats[] independentStats = [];
    private IndependentSolver<double> independent = null!;

    [GlobalSetup]
    public void Setup()
    {
        single = new LorenzDynamics<double>(1);
        shared = new LorenzDynamics<double>(Count);
        batchInitial = new double[3 * Count];
        for (int i = 0; i < Count; i++)
        {
            batchInitial[3 * i] = 1 + i / 1024.0;
            batchInitial[3 * i + 1] = 1;
            batchInitial[3 * i + 2] = 1;
        }
        independent = new IndependentSolver<double>(() => new LorenzDynamics<double>(1), span, Options);
        independentStates = new double[3 * Count];
        independentStats = new SolveStats[Count];

        long nfe1 = Batch1();
        long nfeShared = SharedStep1024();
        long nfeIndependent = Independent1024();
        // To stderr: the peer runner's stdout is a Markdown table that is redirected into docs/benchmarks/peer-*.md.
        Console.Error.WriteLine($"// W5 NFE: batch 1 = {nfe1}, shared-step 1024 = {nfeShared}, independent 1024 = {nfeIndependent} in total ({nfeIndependent / (double)Count:F0} per instance)");
    }

    [Benchmark(Description = "W5 batch 1")]
    public long Batch1() => Ode.Solve<double>(single, [1.0, 1.0, 1.0], span, Options).Stats.FunctionEvaluations;

    [Benchmark(Description = "W5 1024, one system with a shared step")]
    public long SharedStep1024() => Ode.Solve<double>(shared, batchInitial, span, Options).Stats.FunctionEvaluations;

    [Benchmark(Description = "W5 1024 independent solves (WorkerPool)")]
    public long Independent1024()
    {
        independent.Solve(batchInitial, independentStates, independentStats);
        long total = 0;
        foreach (SolveStats s in independentStats) total += s.FunctionEvaluations;
        return total;
    }
}
