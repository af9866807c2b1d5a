using System.Runtime.CompilerServices;

namespace NeuralOde.AutoDiff.Kernels;

/// <summary>The register-blocked inner kernel of every GEMM: one TRows × TVectors·Count tile of C over a k-block.</summary>
/// <remarks>
/// Shapes are type parameters (<see cref="IGemmConstant"/> structs), so each instantiation keeps only the accumulators
/// it needs, all in registers, with no branch in the loop. A is read in place through two strides, so the same kernel
/// serves A (row stride k, step 1) and Aᵀ (row stride 1, step m). B comes as kc rows of TVectors·Count contiguous
/// elements, <c>bRowStride</c> apart: a packed panel (stride = the panel's width), or a row-major B read in place.
/// Every element of C receives c = fma(a[i,p], b[p,j], c) for p in ascending order,
/// starting from 0 or from C, so results do not depend on the tile, the split of rows or the vector width.
/// </remarks>
internal static class GemmMicroKernel
{
    /// <summary>The most registers per row of C a tile has (<see cref="Run{T, TVector, TOps}"/> dispatches 1 to this).</summary>
    public const int MaxVectors = 4;

    /// <summary>Dispatches a tile of <paramref name="rows"/> rows and <paramref name="vectors"/> registers per row to its specialised kernel.</summary>
    public static void Run<T, TVector, TOps>(int rows, int vectors, ref T a, nint aRowStride, nint aStep, ref T b, nint bRowStride, int kc, ref T c, nint cRowStride, bool loadC)
        where T : unmanaged where TVector : unmanaged where TOps : IGemmVector<T, TVector>
    {
        switch (rows)
        {
            case 1: RunRows<T, TVector, TOps, GemmOne>(vectors, ref a, aRowStride, aStep, ref b, bRowStride, kc, ref c, cRowStride, loadC); break;
            case 2: RunRows<T, TVector, TOps, GemmTwo>(vectors, ref a, aRowStride, aStep, ref b, bRowStride, kc, ref c, cRowStride, loadC); break;
            case 3: RunRows<T, TVector, TOps, GemmThree>(vectors, ref a, aRowStride, aStep, ref b, bRowStride, kc, ref c, cRowStride, loadC); break;
            case 4: RunRows<T, TVector, TOps, GemmFour>(vectors, ref a, aRowStride, aStep, ref b, bRowStride, kc, ref c, cRowStride, loadC); break;
            case 5: RunRows<T, TVector, TOps, GemmFive>(vectors, ref a, aRowStride, aStep, ref b, bRowStride, kc, ref c, cRowStride, loadC); break;
            case 6: RunRows<T, TVector, TOps, GemmSix>(vectors, ref a, aRowStride, aStep, ref b, bRowStride, kc, ref c, cRowStride, loadC); break;
            default: throw new ArgumentOutOfRangeException(nameof(rows), rows, "A micro-tile has 1 to 6 rows.");
        }
    }

    private static void RunRows<T, TVector, TOps, TRows>(int vectors, ref T a, nint aRowStride, nint aStep, ref T b, nint bRowStride, int kc, ref T c, nint cRowStride, bool loadC)
        where T : unmanaged where TVector : unmanaged where TOps : IGemmVector<T, TVector> where TRows : IGemmConstant
    {
        switch (vectors)
        {
            case 1: Tile<T, TVector, TOps, TRows, GemmOne>(ref a, aRowStride, aStep, ref b, bRowStride, kc, ref c, cRowStride, loadC); break;
            case 2: Tile<T, TVector, TOps, TRows, GemmTwo>(ref a, aRowStride, aStep, ref b, bRowStride, kc, ref c, cRowStride, loadC); break;
            case 3: Tile<T, TVector, TOps, TRows, GemmThree>(ref a, aRowStride, aStep, ref b, bRowStride, kc, ref c, cRowStride, loadC); break;
            case 4: Tile<T, TVector, TOps, TRows, GemmFour>(ref a, aRowStride, aStep, ref b, bRowStride, kc, ref c, cRowStride, loadC); break;
            default: throw new ArgumentOutOfRangeException(nameof(vectors), vectors, $"A micro-tile has 1 to {MaxVectors} registers per row.");
        }
    }

    /// <summary>C[0..TRows, 0..TVectors·Count) = (loadC ? C : 0) + Σ_p A[i, p]·B[p, j], with A[i, p] at a[i·aRowStride + p·aStep] and B[p, j] at b[p·bRowStride + j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<T, TVector, TOps, TRows, TVectors>(ref T a, nint aRowStride, nint aStep, ref T b, nint bRowStride, int kc, ref T c, nint cRowStride, bool loadC)
        where T : unmanaged where TVector : unmanaged where TOps : IGemmVector<T, TVector> where TRows : IGemmConstant where TVectors : IGemmConstant
    {
        nint width = TOps.Count;
        ref T a0 = ref a;
        ref T a1 = ref TRows.Value > 1 ? ref Unsafe.Add(ref a, 1 * aRowStride) : ref a;
        ref T a2 = ref TRows.Value > 2 ? ref Unsafe.Add(ref a, 2 * aRowStride) : ref a;
        ref T a3 = ref TRows.Value > 3 ? ref Unsafe.Add(ref a, 3 * aRowStride) : ref a;
        ref T a4 = ref TRows.Value > 4 ? ref Unsafe.Add(ref a, 4 * aRowStride) : ref a;
        ref T a5 = ref TRows.Value > 5 ? ref Unsafe.Add(ref a, 5 * aRowStride) : ref a;
        ref T c0 = ref c;
        ref T c1 = ref TRows.Value > 1 ? ref Unsafe.Add(ref c, 1 * cRowStride) : ref c;
        ref T c2 = ref TRows.Value > 2 ? ref Unsafe.Add(ref c, 2 * cRowStride) : ref c;
        ref T c3 = ref TRows.Value > 3 ? ref Unsafe.Add(ref c, 3 * cRowStride) : ref c;
        ref T c4 = ref TRows.Value > 4 ? ref Unsafe.Add(ref c, 4 * cRowStride) : ref c;
        ref T c5 = ref TRows.Value > 5 ? ref Unsafe.Add(ref c, 5 * cRowStride) : ref c;
        TVector c00 = default; TVector c01 = default; TVector c02 = default; TVector c03 = default;
        TVector c10 = default; TVector c11 = default; TVector c12 = default; TVector c13 = default;
        TVector c20 = default; TVector c21 = default; TVector c22 = default; TVector c23 = default;
        TVector c30 = default; TVector c31 = default; TVector c32 = default; TVector c33 = default;
        TVector c40 = default; TVector c41 = default; TVector c42 = default; TVector c43 = default;
        TVector c50 = default; TVector c51 = default; TVector c52 = default; TVector c53 = default;
        if (loadC)
        {
            c00 = TOps.Load(ref Unsafe.Add(ref c0, 0 * width));
            if (TVectors.Value > 1) c01 = TOps.Load(ref Unsafe.Add(ref c0, 1 * width));
            if (TVectors.Value > 2) c02 = TOps.Load(ref Unsafe.Add(ref c0, 2 * width));
            if (TVectors.Value > 3) c03 = TOps.Load(ref Unsafe.Add(ref c0, 3 * width));
            if (TRows.Value > 1) c10 = TOps.Load(ref Unsafe.Add(ref c1, 0 * width));
            if (TRows.Value > 1 && TVectors.Value > 1) c11 = TOps.Load(ref Unsafe.Add(ref c1, 1 * width));
            if (TRows.Value > 1 && TVectors.Value > 2) c12 = TOps.Load(ref Unsafe.Add(ref c1, 2 * width));
            if (TRows.Value > 1 && TVectors.Value > 3) c13 = TOps.Load(ref Unsafe.Add(ref c1, 3 * width));
            if (TRows.Value > 2) c20 = TOps.Load(ref Unsafe.Add(ref c2, 0 * width));
            if (TRows.Value > 2 && TVectors.Value > 1) c21 = TOps.Load(ref Unsafe.Add(ref c2, 1 * width));
            if (TRows.Value > 2 && TVectors.Value > 2) c22 = TOps.Load(ref Unsafe.Add(ref c2, 2 * width));
            if (TRows.Value > 2 && TVectors.Value > 3) c23 = TOps.Load(ref Unsafe.Add(ref c2, 3 * width));
            if (TRows.Value > 3) c30 = TOps.Load(ref Unsafe.Add(ref c3, 0 * width));
            if (TRows.Value > 3 && TVectors.Value > 1) c31 = TOps.Load(ref Unsafe.Add(ref c3, 1 * width));
            if (TRows.Value > 3 && TVectors.Value > 2) c32 = TOps.Load(ref Unsafe.Add(ref c3, 2 * width));
            if (TRows.Value > 3 && TVectors.Value > 3) c33 = TOps.Load(ref Unsafe.Add(ref c3, 3 * width));
            if (TRows.Value > 4) c40 = TOps.Load(ref Unsafe.Add(ref c4, 0 * width));
            if (TRows.Value > 4 && TVectors.Value > 1) c41 = TOps.Load(ref Unsafe.Add(ref c4, 1 * width));
            if (TRows.Value > 4 && TVectors.Value > 2) c42 = TOps.Load(ref Unsafe.Add(ref c4, 2 * width));
            if (TRows.Value > 4 && TVectors.Value > 3) c43 = TOps.Load(ref Unsafe.Add(ref c4, 3 * width));
            if (TRows.Value > 5) c50 = TOps.Load(ref Unsafe.Add(ref c5, 0 * width));
            if (TRows.Value > 5 && TVectors.Value > 1) c51 = TOps.Load(ref Unsafe.Add(ref c5, 1 * width));
            if (TRows.Value > 5 && TVectors.Value > 2) c52 = TOps.Load(ref Unsafe.Add(ref c5, 2 * width));
            if (TRows.Value > 5 && TVectors.Value > 3) c53 = TOps.Load(ref Unsafe.Add(ref c5, 3 * width));
        }

        nint ap = 0;
        nint bp = 0;
        for (int p = 0; p < kc; p++)
        {
            TVector b0 = TOps.Load(ref Unsafe.Add(ref b, bp));
            TVector b1 = TVectors.Value > 1 ? TOps.Load(ref Unsafe.Add(ref b, bp + 1 * width)) : default;
            TVector b2 = TVectors.Value > 2 ? TOps.Load(ref Unsafe.Add(ref b, bp + 2 * width)) : default;
            TVector b3 = TVectors.Value > 3 ? TOps.Load(ref Unsafe.Add(ref b, bp + 3 * width)) : default;
            TVector x;
            x = TOps.Broadcast(Unsafe.Add(ref a0, ap));
            c00 = TOps.MultiplyAdd(x, b0, c00);
            if (TVectors.Value > 1) c01 = TOps.MultiplyAdd(x, b1, c01);
            if (TVectors.Value > 2) c02 = TOps.MultiplyAdd(x, b2, c02);
            if (TVectors.Value > 3) c03 = TOps.MultiplyAdd(x, b3, c03);
            if (TRows.Value > 1)
            {
                x = TOps.Broadcast(Unsafe.Add(ref a1, ap));
                c10 = TOps.MultiplyAdd(x, b0, c10);
                if (TVectors.Value > 1) c11 = TOps.MultiplyAdd(x, b1, c11);
                if (TVectors.Value > 2) c12 = TOps.MultiplyAdd(x, b2, c12);
                if (TVectors.Value > 3) c13 = TOps.MultiplyAdd(x, b3, c13);
            }
            if (TRows.Value > 2)
            {
                x = TOps.Broadcast(Unsafe.Add(ref a2, ap));
                c20 = TOps.MultiplyAdd(x, b0, c20);
                if (TVectors.Value > 1) c21 = TOps.MultiplyAdd(x, b1, c21);
                if (TVectors.Value > 2) c22 = TOps.MultiplyAdd(x, b2, c22);
                if (TVectors.Value > 3) c23 = TOps.MultiplyAdd(x, b3, c23);
            }
            if (TRows.Value > 3)
            {
                x = TOps.Broadcast(Unsafe.Add(ref a3, ap));
                c30 = TOps.MultiplyAdd(x, b0, c30);
                if (TVectors.Value > 1) c31 = TOps.MultiplyAdd(x, b1, c31);
                if (TVectors.Value > 2) c32 = TOps.MultiplyAdd(x, b2, c32);
                if (TVectors.Value > 3) c33 = TOps.MultiplyAdd(x, b3, c33);
            }
            if (TRows.Value > 4)
            {
                x = TOps.Broadcast(Unsafe.Add(ref a4, ap));
                c40 = TOps.MultiplyAdd(x, b0, c40);
                if (TVectors.Value > 1) c41 = TOps.MultiplyAdd(x, b1, c41);
                if (TVectors.Value > 2) c42 = TOps.MultiplyAdd(x, b2, c42);
                if (TVectors.Value > 3) c43 = TOps.MultiplyAdd(x, b3, c43);
            }
            if (TRows.Value > 5)
            {
                x = TOps.Broadcast(Unsafe.Add(ref a5, ap));
                c50 = TOps.MultiplyAdd(x, b0, c50);
                if (TVectors.Value > 1) c51 = TOps.MultiplyAdd(x, b1, c51);
                if (TVectors.Value > 2) c52 = TOps.MultiplyAdd(x, b2, c52);
                if (TVectors.Value > 3) c53 = TOps.MultiplyAdd(x, b3, c53);
            }
            ap += aStep;
            bp += bRowStride;
        }

        TOps.Store(ref Unsafe.Add(ref c0, 0 * width), c00);
        if (TVectors.Value > 1) TOps.Store(ref Unsafe.Add(ref c0, 1 * width), c01);
        if (TVectors.Value > 2) TOps.Store(ref Unsafe.Add(ref c0, 2 * width), c02);
        if (TVectors.Value > 3) TOps.Store(ref Unsafe.Add(ref c0, 3 * width), c03);
        if (TRows.Value > 1) TOps.Store(ref Unsafe.Add(ref c1, 0 * width), c10);
        if (TRows.Value > 1 && TVectors.Value > 1) TOps.Store(ref Unsafe.Add(ref c1, 1 * width), c11);
        if (TRows.Value > 1 && TVectors.Value > 2) TOps.Store(ref Unsafe.Add(ref c1, 2 * width), c12);
        if (TRows.Value > 1 && TVectors.Value > 3) TOps.Store(ref Unsafe.Add(ref c1, 3 * width), c13);
        if (TRows.Value > 2) TOps.Store(ref Unsafe.Add(ref c2, 0 * width), c20);
        if (TRows.Value > 2 && TVectors.Value > 1) TOps.Store(ref Unsafe.Add(ref c2, 1 * width), c21);
        if (TRows.Value > 2 && TVectors.Value > 2) TOps.Store(ref Unsafe.Add(ref c2, 2 * width), c22);
        if (TRows.Value > 2 && TVectors.Value > 3) TOps.Store(ref Unsafe.Add(ref c2, 3 * width), c23);
        if (TRows.Value > 3) TOps.Store(ref Unsafe.Add(ref c3, 0 * width), c30);
        if (TRows.Value > 3 && TVectors.Value > 1) TOps.Store(ref Unsafe.Add(ref c3, 1 * width), c31);
        if (TRows.Value > 3 && TVectors.Value > 2) TOps.Store(ref Unsafe.Add(ref c3, 2 * width), c32);
        if (TRows.Value > 3 && TVectors.Value > 3) TOps.Store(ref Unsafe.Add(ref c3, 3 * width), c33);
        if (TRows.Value > 4) TOps.Store(ref Unsafe.Add(ref c4, 0 * width), c40);
        if (TRows.Value > 4 && TVectors.Value > 1) TOps.Store(ref Unsafe.Add(ref c4, 1 * width), c41);
        if (TRows.Value > 4 && TVectors.Value > 2) TOps.Store(ref Unsafe.Add(ref c4, 2 * width), c42);
        if (TRows.Value > 4 && TVectors.Value > 3) TOps.Store(ref Unsafe.Add(ref c4, 3 * width), c43);
        if (TRows.Value > 5) TOps.Store(ref Unsafe.Add(ref c5, 0 * width), c50);
        if (TRows.Value > 5 && TVectors.Value > 1) TOps.Store(ref Unsafe.Add(ref c5, 1 * width), c51);
        if (TRows.Value > 5 && TVectors.Value > 2) TOps.Store(ref Unsafe.Add(ref c5, 2 * width), c52);
        if (TRows.Value > 5 && TVectors.Value > 3) TOps.Store(ref Unsafe.Add(ref c5, 3 * width), c53);
    }
}
