using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace NeuralOde.Benchmarks.Kernels;

/// <summary>
/// This machine's single-thread FMA ceiling: a loop of independent Vector512 (else Vector256) fused multiply–adds
/// on registers only, in GFLOP/s (a multiply–add counts 2). 12 accumulators hide a 4-cycle latency on two FMA pipes;
/// 24 is the GEMM micro-tile's own count. The peak is the larger of the two.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
[Config(typeof(GemmPeakFmaBenchConfig))]
[GenericTypeArguments(typeof(float))]
[GenericTypeArguments(typeof(double))]
public class GemmPeakFmaBench<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    internal const int Iterations = 100_000;

    /// <summary>12 independent accumulators, <see cref="Iterations"/> rounds.</summary>
    [Benchmark]
    public T Fma12() => typeof(T) == typeof(float) ? (T)(object)Fma12Float() : (T)(object)Fma12Double();

    /// <summary>24 independent accumulators, <see cref="Iterations"/> rounds.</summary>
    [Benchmark]
    public T Fma24() => typeof(T) == typeof(float) ? (T)(object)Fma24Float() : (T)(object)Fma24Double();

    /// <summary>Elements per register on the width this machine runs.</summary>
    internal static int Lanes => Vector512.IsHardwareAccelerated ? Vector512<T>.Count : Vector256<T>.Count;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma12Float()
    {
        if (!Vector512.IsHardwareAccelerated) return Fma12Float256();
        Vector512<float> x = Vector512.Create(0.999f), y = Vector512.Create(1e-3f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, x, y); a1 = Vector512.FusedMultiplyAdd(a1, x, y); a2 = Vector512.FusedMultiplyAdd(a2, x, y); a3 = Vector512.FusedMultiplyAdd(a3, x, y);
            a4 = Vector512.FusedMultiplyAdd(a4, x, y); a5 = Vector512.FusedMultiplyAdd(a5, x, y); a6 = Vector512.FusedMultiplyAdd(a6, x, y); a7 = Vector512.FusedMultiplyAdd(a7, x, y);
            a8 = Vector512.FusedMultiplyAdd(a8, x, y); a9 = Vector512.FusedMultiplyAdd(a9, x, y); a10 = Vector512.FusedMultiplyAdd(a10, x, y); a11 = Vector512.FusedMultiplyAdd(a11, x, y);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma12Float256()
    {
        Vector256<float> x = Vector256.Create(0.999f), y = Vector256.Create(1e-3f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, x, y); a1 = Vector256.FusedMultiplyAdd(a1, x, y); a2 = Vector256.FusedMultiplyAdd(a2, x, y); a3 = Vector256.FusedMultiplyAdd(a3, x, y);
            a4 = Vector256.FusedMultiplyAdd(a4, x, y); a5 = Vector256.FusedMultiplyAdd(a5, x, y); a6 = Vector256.FusedMultiplyAdd(a6, x, y); a7 = Vector256.FusedMultiplyAdd(a7, x, y);
            a8 = Vector256.FusedMultiplyAdd(a8, x, y); a9 = Vector256.FusedMultiplyAdd(a9, x, y); a10 = Vector256.FusedMultiplyAdd(a10, x, y); a11 = Vector256.FusedMultiplyAdd(a11, x, y);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static double Fma12Double()
    {
        if (!Vector512.IsHardwareAccelerated) return Fma12Double256();
        Vector512<double> x = Vector512.Create(0.999), y = Vector512.Create(1e-3);
        Vector512<double> a0 = Vector512.Create(1.0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, x, y); a1 = Vector512.FusedMultiplyAdd(a1, x, y); a2 = Vector512.FusedMultiplyAdd(a2, x, y); a3 = Vector512.FusedMultiplyAdd(a3, x, y);
            a4 = Vector512.FusedMultiplyAdd(a4, x, y); a5 = Vector512.FusedMultiplyAdd(a5, x, y); a6 = Vector512.FusedMultiplyAdd(a6, x, y); a7 = Vector512.FusedMultiplyAdd(a7, x, y);
            a8 = Vector512.FusedMultiplyAdd(a8, x, y); a9 = Vector512.FusedMultiplyAdd(a9, x, y); a10 = Vector512.FusedMultiplyAdd(a10, x, y); a11 = Vector512.FusedMultiplyAdd(a11, x, y);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static double Fma12Double256()
    {
        Vector256<double> x = Vector256.Create(0.999), y = Vector256.Create(1e-3);
        Vector256<double> a0 = Vector256.Create(1.0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, x, y); a1 = Vector256.FusedMultiplyAdd(a1, x, y); a2 = Vector256.FusedMultiplyAdd(a2, x, y); a3 = Vector256.FusedMultiplyAdd(a3, x, y);
            a4 = Vector256.FusedMultiplyAdd(a4, x, y); a5 = Vector256.FusedMultiplyAdd(a5, x, y); a6 = Vector256.FusedMultiplyAdd(a6, x, y); a7 = Vector256.FusedMultiplyAdd(a7, x, y);
            a8 = Vector256.FusedMultiplyAdd(a8, x, y); a9 = Vector256.FusedMultiplyAdd(a9, x, y); a10 = Vector256.FusedMultiplyAdd(a10, x, y); a11 = Vector256.FusedMultiplyAdd(a11, x, y);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma24Float()
    {
        if (!Vector512.IsHardwareAccelerated) return Fma24Float256();
        Vector512<float> x = Vector512.Create(0.999f), y = Vector512.Create(1e-3f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0, a16 = a0, a17 = a0, a18 = a0, a19 = a0, a20 = a0, a21 = a0, a22 = a0, a23 = a0;
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, x, y); a1 = Vector512.FusedMultiplyAdd(a1, x, y); a2 = Vector512.FusedMultiplyAdd(a2, x, y); a3 = Vector512.FusedMultiplyAdd(a3, x, y);
            a4 = Vector512.FusedMultiplyAdd(a4, x, y); a5 = Vector512.FusedMultiplyAdd(a5, x, y); a6 = Vector512.FusedMultiplyAdd(a6, x, y); a7 = Vector512.FusedMultiplyAdd(a7, x, y);
            a8 = Vector512.FusedMultiplyAdd(a8, x, y); a9 = Vector512.FusedMultiplyAdd(a9, x, y); a10 = Vector512.FusedMultiplyAdd(a10, x, y); a11 = Vector512.FusedMultiplyAdd(a11, x, y);
            a12 = Vector512.FusedMultiplyAdd(a12, x, y); a13 = Vector512.FusedMultiplyAdd(a13, x, y); a14 = Vector512.FusedMultiplyAdd(a14, x, y); a15 = Vector512.FusedMultiplyAdd(a15, x, y);
            a16 = Vector512.FusedMultiplyAdd(a16, x, y); a17 = Vector512.FusedMultiplyAdd(a17, x, y); a18 = Vector512.FusedMultiplyAdd(a18, x, y); a19 = Vector512.FusedMultiplyAdd(a19, x, y);
            a20 = Vector512.FusedMultiplyAdd(a20, x, y); a21 = Vector512.FusedMultiplyAdd(a21, x, y); a22 = Vector512.FusedMultiplyAdd(a22, x, y); a23 = Vector512.FusedMultiplyAdd(a23, x, y);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15 + a16 + a17 + a18 + a19 + a20 + a21 + a22 + a23);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma24Float256()
    {
        Vector256<float> x = Vector256.Create(0.999f), y = Vector256.Create(1e-3f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0, a16 = a0, a17 = a0, a18 = a0, a19 = a0, a20 = a0, a21 = a0, a22 = a0, a23 = a0;
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, x, y); a1 = Vector256.FusedMultiplyAdd(a1, x, y); a2 = Vector256.FusedMultiplyAdd(a2, x, y); a3 = Vector256.FusedMultiplyAdd(a3, x, y);
            a4 = Vector256.FusedMultiplyAdd(a4, x, y); a5 = Vector256.FusedMultiplyAdd(a5, x, y); a6 = Vector256.FusedMultiplyAdd(a6, x, y); a7 = Vector256.FusedMultiplyAdd(a7, x, y);
            a8 = Vector256.FusedMultiplyAdd(a8, x, y); a9 = Vector256.FusedMultiplyAdd(a9, x, y); a10 = Vector256.FusedMultiplyAdd(a10, x, y); a11 = Vector256.FusedMultiplyAdd(a11, x, y);
            a12 = Vector256.FusedMultiplyAdd(a12, x, y); a13 = Vector256.FusedMultiplyAdd(a13, x, y); a14 = Vector256.FusedMultiplyAdd(a14, x, y); a15 = Vector256.FusedMultiplyAdd(a15, x, y);
            a16 = Vector256.FusedMultiplyAdd(a16, x, y); a17 = Vector256.FusedMultiplyAdd(a17, x, y); a18 = Vector256.FusedMultiplyAdd(a18, x, y); a19 = Vector256.FusedMultiplyAdd(a19, x, y);
            a20 = Vector256.FusedMultiplyAdd(a20, x, y); a21 = Vector256.FusedMultiplyAdd(a21, x, y); a22 = Vector256.FusedMultiplyAdd(a22, x, y); a23 = Vector256.FusedMultiplyAdd(a23, x, y);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15 + a16 + a17 + a18 + a19 + a20 + a21 + a22 + a23);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static double Fma24Double()
    {
        if (!Vector512.IsHardwareAccelerated) return Fma24Double256();
        Vector512<double> x = Vector512.Create(0.999), y = Vector512.Create(1e-3);
        Vector512<double> a0 = Vector512.Create(1.0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0, a16 = a0, a17 = a0, a18 = a0, a19 = a0, a20 = a0, a21 = a0, a22 = a0, a23 = a0;
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, x, y); a1 = Vector512.FusedMultiplyAdd(a1, x, y); a2 = Vector512.FusedMultiplyAdd(a2, x, y); a3 = Vector512.FusedMultiplyAdd(a3, x, y);
            a4 = Vector512.FusedMultiplyAdd(a4, x, y); a5 = Vector512.FusedMultiplyAdd(a5, x, y); a6 = Vector512.FusedMultiplyAdd(a6, x, y); a7 = Vector512.FusedMultiplyAdd(a7, x, y);
            a8 = Vector512.FusedMultiplyAdd(a8, x, y); a9 = Vector512.FusedMultiplyAdd(a9, x, y); a10 = Vector512.FusedMultiplyAdd(a10, x, y); a11 = Vector512.FusedMultiplyAdd(a11, x, y);
            a12 = Vector512.FusedMultiplyAdd(a12, x, y); a13 = Vector512.FusedMultiplyAdd(a13, x, y); a14 = Vector512.FusedMultiplyAdd(a14, x, y); a15 = Vector512.FusedMultiplyAdd(a15, x, y);
            a16 = Vector512.FusedMultiplyAdd(a16, x, y); a17 = Vector512.FusedMultiplyAdd(a17, x, y); a18 = Vector512.FusedMultiplyAdd(a18, x, y); a19 = Vector512.FusedMultiplyAdd(a19, x, y);
            a20 = Vector512.FusedMultiplyAdd(a20, x, y); a21 = Vector512.FusedMultiplyAdd(a21, x, y); a22 = Vector512.FusedMultiplyAdd(a22, x, y); a23 = Vector512.FusedMultiplyAdd(a23, x, y);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15 + a16 + a17 + a18 + a19 + a20 + a21 + a22 + a23);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static double Fma24Double256()
    {
        Vector256<double> x = Vector256.Create(0.999), y = Vector256.Create(1e-3);
        Vector256<double> a0 = Vector256.Create(1.0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0, a16 = a0, a17 = a0, a18 = a0, a19 = a0, a20 = a0, a21 = a0, a22 = a0, a23 = a0;
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, x, y); a1 = Vector256.FusedMultiplyAdd(a1, x, y); a2 = Vector256.FusedMultiplyAdd(a2, x, y); a3 = Vector256.FusedMultiplyAdd(a3, x, y);
            a4 = Vector256.FusedMultiplyAdd(a4, x, y); a5 = Vector256.FusedMultiplyAdd(a5, x, y); a6 = Vector256.FusedMultiplyAdd(a6, x, y); a7 = Vector256.FusedMultiplyAdd(a7, x, y);
            a8 = Vector256.FusedMultiplyAdd(a8, x, y); a9 = Vector256.FusedMultiplyAdd(a9, x, y); a10 = Vector256.FusedMultiplyAdd(a10, x, y); a11 = Vector256.FusedMultiplyAdd(a11, x, y);
            a12 = Vector256.FusedMultiplyAdd(a12, x, y); a13 = Vector256.FusedMultiplyAdd(a13, x, y); a14 = Vector256.FusedMultiplyAdd(a14, x, y); a15 = Vector256.FusedMultiplyAdd(a15, x, y);
            a16 = Vector256.FusedMultiplyAdd(a16, x, y); a17 = Vector256.FusedMultiplyAdd(a17, x, y); a18 = Vector256.FusedMultiplyAdd(a18, x, y); a19 = Vector256.FusedMultiplyAdd(a19, x, y);
            a20 = Vector256.FusedMultiplyAdd(a20, x, y); a21 = Vector256.FusedMultiplyAdd(a21, x, y); a22 = Vector256.FusedMultiplyAdd(a22, x, y); a23 = Vector256.FusedMultiplyAdd(a23, x, y);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15 + a16 + a17 + a18 + a19 + a20 + a21 + a22 + a23);
    }
}

/// <summary>Adds the GFLOP/s column to <see cref="GemmPeakFmaBench{T}"/>: iterations × accumulators × lanes × 2 per invocation.</summary>
internal sealed class GemmPeakFmaBenchConfig : ManualConfig
{
    public GemmPeakFmaBenchConfig() => AddColumn(new GflopsColumn(Flops), new GflopsColumn(Flops, fromBestIteration: true));

    private static double Flops(BenchmarkCase benchmarkCase)
    {
        int accumulators = benchmarkCase.Descriptor.WorkloadMethod.Name == nameof(GemmPeakFmaBench<float>.Fma24) ? 24 : 12;
        int lanes = benchmarkCase.Descriptor.Type.GetGenericArguments()[0] == typeof(float) ? GemmPeakFmaBench<float>.Lanes : GemmPeakFmaBench<double>.Lanes;
        return 2.0 * GemmPeakFmaBench<float>.Iterations * accumulators * lanes;
    }
}
