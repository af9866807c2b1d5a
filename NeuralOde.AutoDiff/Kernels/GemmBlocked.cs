using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralOde.AutoDiff.Kernels;

/// <summary>
/// The single-threaded blocked product for one element type and register width: computes rows
/// [rowStart, rowEnd) of C, packing B into a thread-static buffer and reading A in place.
/// </summary>
/// <remarks>
/// Loop order (after BLIS): column blocks of <see cref="ColumnBlock"/>, depth blocks of <see cref="DepthBlock"/> (B packed
/// once per block into panels of TileVectors·Count columns, zero-padded), row blocks of <see cref="RowBlock"/>, then
/// panels, then micro-tiles of TileRows rows. A panel (depth block × panel width) stays in L1 while the tiles of a row
/// block pass over it. Packing B is also what lets NT run without a transposed copy: the panel is written transposed.
/// Tiles that would run past column n are computed into a small buffer and copied, so no lane reads or writes outside C.
/// When the rows fit one micro-tile, a row-major B whose block is whole registers wide is read in place instead of packed.
/// </remarks>
internal static class GemmBlocked<T, TVector, TOps>
    where T : unmanaged
    where TVector : unmanaged
    where TOps : IGemmVector<T, TVector>
{
    /// <summary>Depth (k) per packed block: a 128 × 64-float panel is 32 KiB, inside a 48 KiB L1.</summary>
    public const int DepthBlock = 128;

    /// <summary>Columns per packed block (a multiple of every path's panel width).</summary>
    public const int ColumnBlock = 512;

    /// <summary>Rows of A per pass over the panels (a multiple of 6 and 4; 240 × 128 doubles = 240 KiB, inside L2).</summary>
    public const int RowBlock = 240;

    /// <summary>Elements of the per-thread workspace: one packed block plus one edge tile.</summary>
    public const int WorkspaceLength = DepthBlock * ColumnBlock + 6 * 64;

    [ThreadStatic] private static T[]? workspace;

    /// <summary>Computes rows [rowStart, rowEnd) of C = (accumulate ? C : 0) + op(A)·op(B) for the given layout.</summary>
    public static void Run(GemmLayout layout, ref T a, ref T b, ref T c, int m, int k, int n, int rowStart, int rowEnd, bool accumulate) =>
        Run(layout == GemmLayout.TN, layout == GemmLayout.NT, ref a, ref b, ref c, m, k, n, rowStart, rowEnd, accumulate);

    /// <summary>
    /// Computes rows [rowStart, rowEnd) of C = (accumulate ? C : 0) + op(A)·op(B), with A stored k×m when
    /// <paramref name="aTransposed"/> (else m×k) and B stored n×k when <paramref name="bTransposed"/> (else k×n).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(bool aTransposed, bool bTransposed, ref T a, ref T b, ref T c, int m, int k, int n, int rowStart, int rowEnd, bool accumulate)
    {
        if (rowStart >= rowEnd || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) MemoryMarshal.CreateSpan(ref Unsafe.Add(ref c, (nint)rowStart * n), (rowEnd - rowStart) * n).Clear();
            return;
        }

        int width = TOps.Count;
        int tileRows = TOps.TileRows;
        // A C of at most two rows (a 2-output layer's weight gradient, or the transposed C of a narrow product) gets
        // panels of four registers: a 2 × TileVectors tile would hold too few accumulators to hide the FMA latency.
        int panelWidth = (rowEnd - rowStart <= 2 ? GemmMicroKernel.MaxVectors : TOps.TileVectors) * width;
        nint aRowStride = aTransposed ? 1 : k;
        nint aStep = aTransposed ? m : 1;
        T[] buffer = workspace ??= new T[WorkspaceLength];
        ref T packed = ref MemoryMarshal.GetArrayDataReference(buffer);
        ref T tile = ref Unsafe.Add(ref packed, DepthBlock * ColumnBlock);

        for (int jc = 0; jc < n; jc += ColumnBlock)
        {
            int nc = Math.Min(ColumnBlock, n - jc);
            int panels = (nc + panelWidth - 1) / panelWidth;
            // Rows of C that fit one micro-tile use each element of B once: packing B would copy it for nothing, so a
            // row-major B of whole registers is read in place (a weight gradient gᵀ·x of a 2-output layer reads x once).
            bool inPlace = !bTransposed && rowEnd - rowStart <= tileRows && nc % width == 0;
            for (int pc = 0; pc < k; pc += DepthBlock)
            {
                int kc = Math.Min(DepthBlock, k - pc);
                if (!inPlace)
                {
                    if (bTransposed) PackTransposed(ref b, k, pc, kc, jc, nc, panelWidth, ref packed);
                    else PackRows(ref b, n, pc, kc, jc, nc, panelWidth, ref packed);
                }
                bool loadC = accumulate || pc > 0;

                for (int ic = rowStart; ic < rowEnd; ic += RowBlock)
                {
                    int icEnd = Math.Min(ic + RowBlock, rowEnd);
                    for (int jr = 0; jr < panels; jr++)
                    {
                        int j0 = jc + jr * panelWidth;
                        int columns = Math.Min(panelWidth, n - j0);
                        int vectors = (columns + width - 1) / width;
                        int paddedColumns = vectors * width;
                        ref T panel = ref inPlace ? ref Unsafe.Add(ref b, (nint)pc * n + j0) : ref Unsafe.Add(ref packed, jr * kc * panelWidth);
                        nint panelStride = inPlace ? n : paddedColumns;
                        for (int ir = ic; ir < icEnd; ir += tileRows)
                        {
                            int rows = Math.Min(tileRows, icEnd - ir);
                            ref T aTile = ref Unsafe.Add(ref a, ir * aRowStride + pc * aStep);
                            ref T cTile = ref Unsafe.Add(ref c, (nint)ir * n + j0);
                            if (columns == paddedColumns)
                            {
                                GemmMicroKernel.Run<T, TVector, TOps>(rows, vectors, ref aTile, aRowStride, aStep, ref panel, panelStride, kc, ref cTile, n, loadC);
                            }
                            else
                            {
                                if (loadC) CopyTile(ref cTile, n, ref tile, paddedColumns, rows, columns);
                                GemmMicroKernel.Run<T, TVector, TOps>(rows, vectors, ref aTile, aRowStride, aStep, ref panel, panelStride, kc, ref tile, paddedColumns, loadC);
                                CopyTile(ref tile, paddedColumns, ref cTile, n, rows, columns);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Packs B[pc.., jc..] of a row-major k×n B (NN, TN) into panels of kc rows × panel width, zero-padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackRows(ref T b, int n, int pc, int kc, int jc, int nc, int panelWidth, ref T packed)
    {
        int width = TOps.Count;
        for (int j0 = 0; j0 < nc; j0 += panelWidth)
        {
            int columns = Math.Min(panelWidth, nc - j0);
            int paddedColumns = (columns + width - 1) / width * width;
            ref T destination = ref Unsafe.Add(ref packed, j0 * kc);
            ref T source = ref Unsafe.Add(ref b, (nint)pc * n + jc + j0);
            int whole = columns / width * width;
            for (int p = 0; p < kc; p++)
            {
                // Register copies rather than a memmove per row: rows here are one to four registers long.
                ref T from = ref Unsafe.Add(ref source, (nint)p * n);
                ref T to = ref Unsafe.Add(ref destination, p * paddedColumns);
                for (int j = 0; j < whole; j += width) TOps.Store(ref Unsafe.Add(ref to, j), TOps.Load(ref Unsafe.Add(ref from, j)));
                for (int j = whole; j < columns; j++) Unsafe.Add(ref to, j) = Unsafe.Add(ref from, j);
                for (int j = columns; j < paddedColumns; j++) Unsafe.Add(ref to, j) = default;
            }
        }
    }

    /// <summary>Packs Bᵀ[pc.., jc..] of an n×k B (NT) into the same panel format: panel row p holds B[j, pc + p] for the panel's j.</summary>
    /// <remarks>
    /// Transposes in 8×8 blocks so both sides stay in a few cache lines: a column-at-a-time copy writes at a stride of
    /// the panel width, and a row-at-a-time copy reads at a stride of k (2 KiB for k = 512, which maps 64 reads onto two
    /// L1 sets); either made the 512³ NT product spend more time packing than multiplying.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackTransposed(ref T b, int k, int pc, int kc, int jc, int nc, int panelWidth, ref T packed)
    {
        const int Block = 8;
        int width = TOps.Count;
        for (int j0 = 0; j0 < nc; j0 += panelWidth)
        {
            int columns = Math.Min(panelWidth, nc - j0);
            int paddedColumns = (columns + width - 1) / width * width;
            ref T destination = ref Unsafe.Add(ref packed, j0 * kc);
            ref T source = ref Unsafe.Add(ref b, (nint)(jc + j0) * k + pc);
            int fastColumns = 0;
            int registerBlock = typeof(T) != typeof(float) ? 0
                : typeof(TVector) == typeof(Vector512<float>) && Avx512F.IsSupported ? 16
                : typeof(TVector) == typeof(Vector256<float>) && Avx.IsSupported ? 8 : 0;
            if (registerBlock > 0)
            {
                // Whole blocks in registers; the scalar loop below does the rest (columns past the last whole block).
                fastColumns = columns / registerBlock * registerBlock;
                int fastDepth = kc / registerBlock * registerBlock;
                ref float fs = ref Unsafe.As<T, float>(ref source);
                ref float fd = ref Unsafe.As<T, float>(ref destination);
                for (int p0 = 0; p0 < fastDepth; p0 += registerBlock)
                {
                    for (int jj0 = 0; jj0 < fastColumns; jj0 += registerBlock)
                    {
                        ref float from = ref Unsafe.Add(ref fs, (nint)jj0 * k + p0);
                        ref float to = ref Unsafe.Add(ref fd, (nint)p0 * paddedColumns + jj0);
                        if (registerBlock == 16) GemmTranspose.Block16(ref from, k, ref to, paddedColumns);
                        else GemmTranspose.Block8(ref from, k, ref to, paddedColumns);
                    }
                }
                for (int p = fastDepth; p < kc; p++)
                {
                    ref T row = ref Unsafe.Add(ref destination, (nint)p * paddedColumns);
                    for (int jj = 0; jj < fastColumns; jj++) Unsafe.Add(ref row, jj) = Unsafe.Add(ref source, (nint)jj * k + p);
                }
            }
            for (int p0 = 0; p0 < kc; p0 += Block)
            {
                int pEnd = Math.Min(p0 + Block, kc);
                for (int jj0 = fastColumns; jj0 < columns; jj0 += Block)
                {
                    int jjEnd = Math.Min(jj0 + Block, columns);
                    for (int p = p0; p < pEnd; p++)
                    {
                        ref T row = ref Unsafe.Add(ref destination, (nint)p * paddedColumns);
                        for (int jj = jj0; jj < jjEnd; jj++) Unsafe.Add(ref row, jj) = Unsafe.Add(ref source, (nint)jj * k + p);
                    }
                }
                for (int p = p0; p < pEnd; p++)
                {
                    MemoryMarshal.CreateSpan(ref Unsafe.Add(ref destination, (nint)p * paddedColumns + columns), paddedColumns - columns).Clear();
                }
            }
        }
    }

    private static void CopyTile(ref T source, nint sourceStride, ref T destination, nint destinationStride, int rows, int columns)
    {
        for (int r = 0; r < rows; r++)
        {
            MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref source, r * sourceStride), columns)
                .CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref destination, r * destinationStride), columns));
        }
    }
}
