using System.Numerics;
using System.Runtime.CompilerServices;
using NeuralOde.AutoDiff.Threading;

namespace NeuralOde.AutoDiff.Kernels;

/// <summary>One product split by rows of C over a <see cref="WorkerPool"/>; one instance per calling thread and element type, reused.</summary>
/// <remarks>
/// A class cannot hold spans, so a run pins the operands for its duration and hands the parts raw pointers. Part p
/// computes the rows <see cref="Gemm.PartRows"/> gives it; each row is summed exactly as in a single-threaded run.
/// </remarks>
/// <typeparam name="T">float or double.</typeparam>
internal sealed unsafe class GemmParallelWork<T> : IParallelWork
    where T : unmanaged, IFloatingPointIeee754<T>
{
    [ThreadStatic] private static GemmParallelWork<T>? cached;

    private T* a;
    private T* b;
    private T* c;
    private GemmLayout layout;
    private GemmPath path;
    private int m;
    private int k;
    private int n;
    private bool accumulate;

    /// <summary>Runs the product on <paramref name="pool"/> in <paramref name="parts"/> parts and returns when all are done.</summary>
    public static void Run(WorkerPool pool, int parts, GemmLayout layout, GemmPath path, ref T a, ref T b, ref T c, int m, int k, int n, bool accumulate)
    {
        GemmParallelWork<T> work = cached ??= new GemmParallelWork<T>();
        fixed (T* pa = &a, pb = &b, pc = &c)
        {
            work.a = pa;
            work.b = pb;
            work.c = pc;
            work.layout = layout;
            work.path = path;
            work.m = m;
            work.k = k;
            work.n = n;
            work.accumulate = accumulate;
            try
            {
                pool.Run(work, parts);
            }
            finally
            {
                work.a = work.b = work.c = null;
            }
        }
    }

    /// <inheritdoc/>
    public void Execute(int part, int partCount)
    {
        (int start, int end) = Gemm.PartRows(path, m, part, partCount);
        Gemm.RunRows(layout, path, ref Unsafe.AsRef<T>(a), ref Unsafe.AsRef<T>(b), ref Unsafe.AsRef<T>(c), m, k, n, start, end, accumulate);
    }
}
