using System.Globalization;
using System.Numerics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using NeuralOde.AutoDiff.Kernels;
using NeuralOde.AutoDiff.Threading;

namespace NeuralOde.Benchmarks.Kernels;

/// <summary>
/// GEMM NN, NT and TN at the MLP shapes (m×k·k×n), on one thread and split over <see cref="WorkerPool.Shared"/>, with
/// GFLOP/s = 2·m·n·k / mean time. Compare with <see cref="GemmPeakFmaBench{T}"/> run in the same session.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
[MemoryDiagnoser]
[Config(typeof(GemmBenchConfig))]
[GenericTypeArguments(typeof(float))]
[GenericTypeArguments(typeof(double))]
public class GemmBench<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int Seed = 20261128;
    private T[] a = [];
    private T[] b = [];
    private T[] c = [];
    private int m;
    private int k;
    private int n;

    /// <summary>
    /// m×k×n: the forward/input-gradient shape, a 4096 batch, a square 512 product, and the narrow products of a
    /// 2-output and a 3-input layer at batch 512 (in TN the weight gradients gᵀ·x: 2 rows of C, and 3 columns).
    /// </summary>
    [Params("512x64x64", "4096x64x64", "512x512x512", "2x512x64", "64x512x3", "512x64x2")]
    public string Shape { get; set; } = "512x64x64";

    /// <summary>false: the calling thread only; true: split by rows over <see cref="WorkerPool.Shared"/> (this machine: 2 threads) whatever the size, below the library's own split threshold too.</summary>
    [Params(false, true)]
    public bool Pooled { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (m, k, n) = Parse(Shape);
        var random = new Random(Seed);
        a = Fill(m * k, random);
        b = Fill(k * n, random);
        c = new T[m * n];
    }

    /// <summary>C = A·B (A m×k, B k×n): the input gradient.</summary>
    [Benchmark]
    public void NN() => Gemm.Multiply(GemmLayout.NN, Gemm.DefaultPath, a, b, c, m, k, n, false, Pooled ? WorkerPool.Shared : null, parallelThreshold: 0);

    /// <summary>C = A·Bᵀ (B stored n×k): a linear layer's forward.</summary>
    [Benchmark]
    public void NT() => Gemm.Multiply(GemmLayout.NT, Gemm.DefaultPath, a, b, c, m, k, n, false, Pooled ? WorkerPool.Shared : null, parallelThreshold: 0);

    /// <summary>C = Aᵀ·B (A stored k×m): the weight gradient, a reduction over k.</summary>
    [Benchmark]
    public void TN() => Gemm.Multiply(GemmLayout.TN, Gemm.DefaultPath, a, b, c, m, k, n, false, Pooled ? WorkerPool.Shared : null, parallelThreshold: 0);

    private static T[] Fill(int length, Random random)
    {
        var values = new T[length];
        for (int i = 0; i < length; i++) values[i] = T.CreateChecked(random.NextDouble() * 2 - 1);
        return values;
    }

    internal static (int M, int K, int N) Parse(string shape)
    {
        int[] sizes = shape.Split('x').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return (sizes[0], sizes[1], sizes[2]);
    }
}

/// <summary>Adds the GFLOP/s column (2·m·n·k per invocation) to <see cref="GemmBench{T}"/>.</summary>
internal sealed class GemmBenchConfig : ManualConfig
{
    public GemmBenchConfig() => AddColumn(new GflopsColumn(Flops), new GflopsColumn(Flops, fromBestIteration: true));

    private static double Flops(BenchmarkCase benchmarkCase)
    {
        var (m, k, n) = GemmBench<float>.Parse((string)benchmarkCase.Parameters[nameof(GemmBench<float>.Shape)]);
        return 2.0 * m * k * n;
    }
}
