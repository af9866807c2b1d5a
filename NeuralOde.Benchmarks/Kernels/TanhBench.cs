using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using NeuralOde.AutoDiff.Kernels;

namespace NeuralOde.Benchmarks.Kernels;

/// <summary>
/// float tanh over one hidden layer of a 512-row batch (512 × 64 values): the library's
/// kernel against TensorPrimitives.Tanh, which it replaced for float. Run it at each vector width (the runtime's
/// DOTNET_EnableAVX512=0 and DOTNET_PreferredVectorBitWidth=128 switches) and divide by the element count.
/// </summary>
[MemoryDiagnoser]
public class TanhBench
{
    private const int Length = 512 * 64;
    private float[] x = [];
    private float[] y = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(20261203);
        // Pre-activations of a tanh layer: mostly within ±3, both formulas of the kernel in play.
        x = Enumerable.Range(0, Length).Select(_ => (float)((random.NextDouble() * 2 - 1) * 3)).ToArray();
        y = new float[Length];
    }

    [Benchmark(Baseline = true)]
    public void TensorPrimitivesTanh() => TensorPrimitives.Tanh(x, y);

    [Benchmark]
    public void TanhSingleKernel() => ElementwiseDriver.Apply<float, TanhSingle>(x, y);
}
