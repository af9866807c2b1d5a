using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NeuralOde.AutoDiff.Threading;

namespace NeuralOde.AutoDiff.Kernels;

/// <summary>Dense matrix products for row-major, contiguous matrices (leading dimension = column count).</summary>
/// <remarks>
/// <para>
/// Blocked, register-tiled kernels with fused multiply–adds, on Vector512 where it is hardware accelerated, else
/// Vector256, else Vector128 (NEON on ARM64, or x64 with DOTNET_PreferredVectorBitWidth=128), else scalar: one generic
/// driver and micro-kernel, with the register tile chosen per width. Tuned for the shapes of small MLPs (m up to a few thousand rows, k and n up to 512).
/// </para>
/// <para>
/// Every element of C is computed as c ← fma(a, b, c) over p = 0, 1, …, k − 1 in that order, starting from 0 or from C.
/// Results are therefore bitwise reproducible: they do not depend on the vector width, the blocking or whether the
/// product was split over threads. Products of at least 2^21 float (2^20 double) multiply–adds are split by rows
/// of C over <see cref="WorkerPool.Shared"/>. After the first call on a thread nothing is allocated.
/// </para>
/// <para>
/// Spans may be longer than their matrix (the extra elements are neither read nor written); C must not overlap A or B.
/// Called from inside a part of a pool run (a batched solve, say), a product runs on that part's thread alone.
/// </para>
/// </remarks>
public static class Gemm
{
    /// <summary>
    /// The smallest m·k·n·sizeof(T) that is split over the worker pool: 2^21 multiply–adds in float, 2^20 in double.
    /// </summary>
    /// <remarks>
    /// Measured on 2 cores of an AVX-512 server CPU: a lone 512×64·64×64 float product runs at about 215 GFLOP/s
    /// on one core and 370 on two, but inside an MLP (each product reading the previous layer's activations, written by
    /// the calling thread) splitting it makes the whole slower: a 3 → 64 → 64 → 64 → 2 MLP's forward + backward at batch 512 took 255 µs on
    /// one thread and 345 µs split, an exact-trace CNF iteration on it 39 ms against 44 ms. Moving a product's rows between the
    /// cores' caches costs more than the halved arithmetic saves until the operands are several MiB, so only products of
    /// at least 64 MiB of m·k·n·sizeof(T) (4096×64·64×64 floats) are split.
    /// </remarks>
    internal const long ParallelThreshold = 1L << 26;

    /// <summary>The widest vector width the running machine accelerates: the one the public entry points use.</summary>
    internal static GemmPath DefaultPath { get; } =
        Vector512.IsHardwareAccelerated ? GemmPath.Vector512 :
        Vector256.IsHardwareAccelerated ? GemmPath.Vector256 :
        Vector128.IsHardwareAccelerated ? GemmPath.Vector128 : GemmPath.Scalar;

    /// <summary>C[m×n] = (accumulate ? C : 0) + A[m×k]·B[k×n].</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="a">A, row-major m×k.</param>
    /// <param name="b">B, row-major k×n.</param>
    /// <param name="c">C, row-major m×n; overwritten, or added to when <paramref name="accumulate"/> is true.</param>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="k">Columns of A, rows of B; 0 leaves C zero (or unchanged when accumulating).</param>
    /// <param name="n">Columns of B and C.</param>
    /// <param name="accumulate">Whether to add the product to C instead of overwriting it.</param>
    /// <exception cref="ArgumentException">A size is negative, a span is too short for its matrix, or C overlaps A or B.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public static void MultiplyNN<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Multiply(GemmLayout.NN, DefaultPath, a, b, c, m, k, n, accumulate, WorkerPool.Shared);

    /// <summary>C[m×n] = (accumulate ? C : 0) + A[m×k]·B[n×k]ᵀ: the forward of a linear layer, x·Wᵀ with W stored [out, in].</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="a">A, row-major m×k.</param>
    /// <param name="b">B, row-major n×k (used transposed, without a copy).</param>
    /// <param name="c">C, row-major m×n; overwritten, or added to when <paramref name="accumulate"/> is true.</param>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="k">Columns of A and of B; 0 leaves C zero (or unchanged when accumulating).</param>
    /// <param name="n">Rows of B, columns of C.</param>
    /// <param name="accumulate">Whether to add the product to C instead of overwriting it.</param>
    /// <exception cref="ArgumentException">A size is negative, a span is too short for its matrix, or C overlaps A or B.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public static void MultiplyNT<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Multiply(GemmLayout.NT, DefaultPath, a, b, c, m, k, n, accumulate, WorkerPool.Shared);

    /// <summary>C[m×n] = (accumulate ? C : 0) + A[k×m]ᵀ·B[k×n]: the weight gradient gᵀ·x of a linear layer, a reduction over the batch k.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="a">A, row-major k×m (used transposed, without a copy).</param>
    /// <param name="b">B, row-major k×n.</param>
    /// <param name="c">C, row-major m×n; overwritten, or added to when <paramref name="accumulate"/> is true.</param>
    /// <param name="m">Columns of A, rows of C.</param>
    /// <param name="k">Rows of A and of B; 0 leaves C zero (or unchanged when accumulating).</param>
    /// <param name="n">Columns of B and C.</param>
    /// <param name="accumulate">Whether to add the product to C instead of overwriting it.</param>
    /// <exception cref="ArgumentException">A size is negative, a span is too short for its matrix, or C overlaps A or B.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public static void MultiplyTN<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Multiply(GemmLayout.TN, DefaultPath, a, b, c, m, k, n, accumulate, WorkerPool.Shared);

    /// <summary>The product with an explicit layout and width; <paramref name="pool"/> null runs on the caller only.</summary>
    /// <remarks>
    /// The entry point for tests and benchmarks: every width runs on any machine (unaccelerated widths run in software).
    /// A product is split when m·k·n·sizeof(T) ≥ <paramref name="parallelThreshold"/>; 0 splits every product.
    /// </remarks>
    internal static void Multiply<T>(GemmLayout layout, GemmPath path, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate, WorkerPool? pool, long parallelThreshold = ParallelThreshold)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        GemmThrowHelper.Validate(a, b, c, m, k, n, layout);
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double)) ThrowUnsupported();
        if (m == 0 || n == 0) return;

        int parts = pool is null || k == 0 || (long)m * k * n * Unsafe.SizeOf<T>() < parallelThreshold ? 1 : Math.Min(pool.Participants, RowBlocks(path, m));
        ref T ra = ref MemoryMarshal.GetReference(a);
        ref T rb = ref MemoryMarshal.GetReference(b);
        ref T rc = ref MemoryMarshal.GetReference(c);
        if (parts <= 1)
        {
            if (IsNarrow<T>(layout, path, m, n)) RunNarrow(layout, path, ref ra, ref rb, ref rc, m, k, n, accumulate);
            else RunRows(layout, path, ref ra, ref rb, ref rc, m, k, n, 0, m, accumulate);
            return;
        }

        GemmParallelWork<T>.Run(pool!, parts, layout, path, ref ra, ref rb, ref rc, m, k, n, accumulate);
    }

    /// <summary>Rows [start, end) of part <paramref name="part"/> of <paramref name="partCount"/>: whole micro-tiles, as even as possible.</summary>
    internal static (int Start, int End) PartRows(GemmPath path, int m, int part, int partCount)
    {
        int tileRows = TileRows(path);
        int blocks = RowBlocks(path, m);
        int start = (int)((long)blocks * part / partCount) * tileRows;
        int end = (int)((long)blocks * (part + 1) / partCount) * tileRows;
        return (Math.Min(start, m), Math.Min(end, m));
    }

    /// <summary>Runs rows [rowStart, rowEnd) of C on the calling thread with the given width.</summary>
    internal static void RunRows<T>(GemmLayout layout, GemmPath path, ref T a, ref T b, ref T c, int m, int k, int n, int rowStart, int rowEnd, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        RunRows(layout == GemmLayout.TN, layout == GemmLayout.NT, path, ref a, ref b, ref c, m, k, n, rowStart, rowEnd, accumulate);

    /// <summary>As the layout overload, with A stored k×m when <paramref name="aTransposed"/> and B stored n×k when <paramref name="bTransposed"/>.</summary>
    private static void RunRows<T>(bool aTransposed, bool bTransposed, GemmPath path, ref T a, ref T b, ref T c, int m, int k, int n, int rowStart, int rowEnd, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            ref float fa = ref Unsafe.As<T, float>(ref a);
            ref float fb = ref Unsafe.As<T, float>(ref b);
            ref float fc = ref Unsafe.As<T, float>(ref c);
            switch (path)
            {
                case GemmPath.Vector512: GemmBlocked<float, Vector512<float>, Float512>.Run(aTransposed, bTransposed, ref fa, ref fb, ref fc, m, k, n, rowStart, rowEnd, accumulate); break;
                case GemmPath.Vector256: GemmBlocked<float, Vector256<float>, Float256>.Run(aTransposed, bTransposed, ref fa, ref fb, ref fc, m, k, n, rowStart, rowEnd, accumulate); break;
                case GemmPath.Vector128: GemmBlocked<float, Vector128<float>, Float128>.Run(aTransposed, bTransposed, ref fa, ref fb, ref fc, m, k, n, rowStart, rowEnd, accumulate); break;
                default: GemmBlocked<float, float, ScalarVector<float>>.Run(aTransposed, bTransposed, ref fa, ref fb, ref fc, m, k, n, rowStart, rowEnd, accumulate); break;
            }
        }
        else if (typeof(T) == typeof(double))
        {
            ref double da = ref Unsafe.As<T, double>(ref a);
            ref double db = ref Unsafe.As<T, double>(ref b);
            ref double dc = ref Unsafe.As<T, double>(ref c);
            switch (path)
            {
                case GemmPath.Vector512: GemmBlocked<double, Vector512<double>, Double512>.Run(aTransposed, bTransposed, ref da, ref db, ref dc, m, k, n, rowStart, rowEnd, accumulate); break;
                case GemmPath.Vector256: GemmBlocked<double, Vector256<double>, Double256>.Run(aTransposed, bTransposed, ref da, ref db, ref dc, m, k, n, rowStart, rowEnd, accumulate); break;
                case GemmPath.Vector128: GemmBlocked<double, Vector128<double>, Double128>.Run(aTransposed, bTransposed, ref da, ref db, ref dc, m, k, n, rowStart, rowEnd, accumulate); break;
                default: GemmBlocked<double, double, ScalarVector<double>>.Run(aTransposed, bTransposed, ref da, ref db, ref dc, m, k, n, rowStart, rowEnd, accumulate); break;
            }
        }
        else
        {
            ThrowUnsupported();
        }
    }

    /// <summary>
    /// Whether C is narrower than one register while Cᵀ fills several, so <see cref="RunNarrow"/> is the faster way: for
    /// TN on any vector width, for NT and NN (whose Cᵀ packs an m-row operand transposed) where that packing runs in
    /// AVX-512 registers.
    /// </summary>
    /// <remarks>
    /// Not for NT and NN with AVX2, although PackTransposed moves 8×8 blocks in registers there too: on a Zen 2 core the
    /// transposed path took 8.0 µs for NT 256×64·(64×2)ᵀ against the direct 6.8 µs (and 16 against 13 at 512 rows), as
    /// its 2-row tile of Cᵀ holds only four accumulators (four FMA chains) and the packing of A is not free.
    /// </remarks>
    internal static bool IsNarrow<T>(GemmLayout layout, GemmPath path, int m, int n)
        where T : unmanaged
    {
        int width = path switch { GemmPath.Vector512 => 64, GemmPath.Vector256 => 32, GemmPath.Vector128 => 16, _ => 0 } / Unsafe.SizeOf<T>();
        if (n > 4 || n >= width || m < 2 * width) return false;
        return layout == GemmLayout.TN || (typeof(T) == typeof(float) && path == GemmPath.Vector512 && Avx512F.IsSupported);
    }

    /// <summary>
    /// C = (accumulate ? C : 0) + op(A)·op(B) for a C of few columns (a first layer's weight gradient gᵀ·x or input
    /// gradient g·W with 2 or 3 inputs, an output layer with 2 outputs): computes Cᵀ = op(B)ᵀ·op(A)ᵀ in a scratch buffer.
    /// </summary>
    /// <remarks>
    /// Element (i, j) still receives c = fma(A[i, p], B[p, j], c) for p ascending from C or 0 (the two factors of a fused
    /// multiply–add commute exactly), so the result is bitwise that of the direct product. The direct product pads each
    /// row of C to a full register and broadcasts one element of A per multiply–add; the transposed one fills its
    /// registers with m columns. B becomes the left operand (transposed unless the layout read it transposed) and A the
    /// packed right one (transposed unless the layout read it transposed).
    /// </remarks>
    private static void RunNarrow<T>(GemmLayout layout, GemmPath path, ref T a, ref T b, ref T c, int m, int k, int n, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> transposed = NarrowScratch<T>.Get(m * n);
        if (accumulate)
        {
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++) transposed[j * m + i] = Unsafe.Add(ref c, i * n + j);
            }
        }
        bool leftTransposed = layout != GemmLayout.NT;
        bool rightTransposed = layout != GemmLayout.TN;
        RunRows(leftTransposed, rightTransposed, path, ref b, ref a, ref MemoryMarshal.GetReference(transposed), n, k, m, 0, n, accumulate);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++) Unsafe.Add(ref c, i * n + j) = transposed[j * m + i];
        }
    }

    /// <summary>A per-thread buffer for the transposed C of <see cref="RunNarrow"/>; grows, never shrinks.</summary>
    private static class NarrowScratch<T>
        where T : unmanaged
    {
        [ThreadStatic] private static T[]? buffer;

        public static Span<T> Get(int length)
        {
            if (buffer is null || buffer.Length < length) buffer = new T[Math.Max(length, 1024)];
            return buffer.AsSpan(0, length);
        }
    }

    private static int TileRows(GemmPath path) => path switch
    {
        GemmPath.Vector512 => Float512.TileRows,
        GemmPath.Vector256 => Float256.TileRows,
        GemmPath.Vector128 => Float128.TileRows,
        _ => ScalarVector<float>.TileRows,
    };

    private static int RowBlocks(GemmPath path, int m) => (m + TileRows(path) - 1) / TileRows(path);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowUnsupported() =>
        throw new NotSupportedException("Gemm supports float and double elements only.");
}
