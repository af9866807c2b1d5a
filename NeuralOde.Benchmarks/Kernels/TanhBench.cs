using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using NeuralOde.AutoDiff.Kernels;
using NeuralOde.Core.Data;

namespace NeuralOde.Benchmarks.Kernels;

/// <summary>
/// float tanh over one hidden layer of a 512-row batch (512 × 64 values): the library's
/// kernel against TensorPrimitives.Tanh, which it replaced for float. Run it at each vector width (the runtime's
/// DOTNET_EnableAVX512=0 and DOTNET_PreferredVectorBitWidth=128 switches) and divide by the element count.
/// </summary>
/// <remarks>
/// Two inputs: uniform on ±3, where nearly every vector mixes both of the kernel's formulas, and normal with standard
/// deviation 0.3, where nearly every vector lies within |x| ≤ 1 and the kernel skips its exponential.
/// </remarks>
[MemoryDiagnoser]
public class TanhBench
{
    private const int Length = 512 * 64;
    private float[] x = [];
    private float[] y = [];

    /// <summary>The input: "uniform3" (uniform on ±3) or "normal0.3" (standard deviation 0.3).</summary>
    [Params("uniform3", "normal0.3")]
    public string Input { get; set; } = "uniform3";

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(20261203);
        x = Enumerable.Range(0, Length).Select(_ => (float)(Input == "uniform3" ? (random.NextDouble() * 2 - 1) * 3 : 0.3 * SeededNormal.Next(random))).ToArray();
        y = new float[Length];
    }

    [Benchmark(Baseline = true)]
    public void TensorPrimitivesTanh() => TensorPrimitives.Tanh(x, y);

    [Benchmark]
    public void TanhSingleKernel() => ElementwiseDriver.Apply<float, TanhSingle>(x, y);
}
