using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralOde.AutoDiff.Kernels;

/// <summary>A row repeated down a matrix (a bias broadcast) and the column sums of a matrix (its gradient), without a call per row.</summary>
internal static class RowKernels
{
    /// <summary>Writes <paramref name="row"/> into each of the first <paramref name="rows"/> rows of <paramref name="destination"/>.</summary>
    /// <remarks>Copies the filled prefix onto the rest, doubling it each time: log2(rows) copies instead of one per row.</remarks>
    public static void RepeatRow<T>(ReadOnlySpan<T> row, Span<T> destination, int rows)
    {
        int total = row.Length * rows;
        if (total == 0) return;
        row.CopyTo(destination);
        for (int filled = row.Length; filled < total; filled *= 2)
        {
            destination[..Math.Min(filled, total - filled)].CopyTo(destination[filled..]);
        }
    }

    /// <summary>destination[c] += g[0, c] + g[1, c] + … + g[rows − 1, c], added one row at a time as a row-by-row loop would.</summary>
    /// <remarks>
    /// Each column keeps its running sum in a register across the rows, so every element is the same sequence of
    /// additions as <c>destination += g[r, :]</c> for r ascending, bit for bit, without a call per row.
    /// </remarks>
    public static void AddColumnSums<T>(ReadOnlySpan<T> g, int rows, int cols, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        AddColumnSums(g, rows, cols, destination, Gemm.DefaultPath);

    /// <summary>As the default overload with an explicit width (for tests); every width gives the same bits.</summary>
    public static void AddColumnSums<T>(ReadOnlySpan<T> g, int rows, int cols, Span<T> destination, GemmPath path)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T gr = ref MemoryMarshal.GetReference(g);
        ref T dr = ref MemoryMarshal.GetReference(destination[..cols]);
        _ = g[..(rows * cols)];
        int c = 0;
        if (path == GemmPath.Vector512 && Vector512<T>.IsSupported)
        {
            int w = Vector512<T>.Count;
            for (; c + 2 * w <= cols; c += 2 * w)
            {
                var s0 = Vector512.LoadUnsafe(ref dr, (nuint)c);
                var s1 = Vector512.LoadUnsafe(ref dr, (nuint)(c + w));
                for (int r = 0; r < rows; r++)
                {
                    nuint at = (nuint)(r * cols + c);
                    s0 += Vector512.LoadUnsafe(ref gr, at);
                    s1 += Vector512.LoadUnsafe(ref gr, at + (nuint)w);
                }
                s0.StoreUnsafe(ref dr, (nuint)c);
                s1.StoreUnsafe(ref dr, (nuint)(c + w));
            }
        }
        if (path is GemmPath.Vector512 or GemmPath.Vector256 && Vector256<T>.IsSupported)
        {
            int w = Vector256<T>.Count;
            for (; c + w <= cols; c += w)
            {
                var s = Vector256.LoadUnsafe(ref dr, (nuint)c);
                for (int r = 0; r < rows; r++) s += Vector256.LoadUnsafe(ref gr, (nuint)(r * cols + c));
                s.StoreUnsafe(ref dr, (nuint)c);
            }
        }
        if (path == GemmPath.Vector128 && Vector128<T>.IsSupported)
        {
            int w = Vector128<T>.Count;
            for (; c + 2 * w <= cols; c += 2 * w)
            {
                var s0 = Vector128.LoadUnsafe(ref dr, (nuint)c);
                var s1 = Vector128.LoadUnsafe(ref dr, (nuint)(c + w));
                for (int r = 0; r < rows; r++)
                {
                    nuint at = (nuint)(r * cols + c);
                    s0 += Vector128.LoadUnsafe(ref gr, at);
                    s1 += Vector128.LoadUnsafe(ref gr, at + (nuint)w);
                }
                s0.StoreUnsafe(ref dr, (nuint)c);
                s1.StoreUnsafe(ref dr, (nuint)(c + w));
            }
        }
        if (path != GemmPath.Scalar && Vector128<T>.IsSupported)
        {
            int w = Vector128<T>.Count;
            for (; c + w <= cols; c += w)
            {
                var s = Vector128.LoadUnsafe(ref dr, (nuint)c);
                for (int r = 0; r < rows; r++) s += Vector128.LoadUnsafe(ref gr, (nuint)(r * cols + c));
                s.StoreUnsafe(ref dr, (nuint)c);
            }
        }
        for (; c < cols; c++)
        {
            T s = Unsafe.Add(ref dr, c);
            for (int r = 0; r < rows; r++) s += Unsafe.Add(ref gr, r * cols + c);
            Unsafe.Add(ref dr, c) = s;
        }
    }
}
