using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralOde.AutoDiff.Kernels;

/// <summary>A 16×16 float transpose in AVX-512 registers, for packing transposed GEMM operands.</summary>
internal static class GemmTranspose
{
    /// <summary>destination[q·destinationStride + r] = source[r·sourceStride + q] for r, q in 0..15 (needs AVX-512F).</summary>
    /// <remarks>
    /// The usual three rounds: interleave pairs of rows (unpack ps), then pairs of pairs (unpack pd), which leaves each
    /// 128-bit lane L of u[4g + c] holding column 4L + c of rows 4g..4g+3; then two rounds of 128-bit lane shuffles gather
    /// the four row groups of each column into one register.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block16(ref float source, nint sourceStride, ref float destination, nint destinationStride)
    {
        Interleave(ref source, sourceStride, out var u0, out var u1, out var u2, out var u3);
        Interleave(ref Unsafe.Add(ref source, 4 * sourceStride), sourceStride, out var u4, out var u5, out var u6, out var u7);
        Interleave(ref Unsafe.Add(ref source, 8 * sourceStride), sourceStride, out var u8, out var u9, out var u10, out var u11);
        Interleave(ref Unsafe.Add(ref source, 12 * sourceStride), sourceStride, out var u12, out var u13, out var u14, out var u15);
        Gather(u0, u4, u8, u12, ref destination, destinationStride);
        Gather(u1, u5, u9, u13, ref Unsafe.Add(ref destination, destinationStride), destinationStride);
        Gather(u2, u6, u10, u14, ref Unsafe.Add(ref destination, 2 * destinationStride), destinationStride);
        Gather(u3, u7, u11, u15, ref Unsafe.Add(ref destination, 3 * destinationStride), destinationStride);
    }

    /// <summary>Rows r0..r3 in; lane L of output c holds column 4L + c of the four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(ref float rows, nint stride, out Vector512<float> c0, out Vector512<float> c1, out Vector512<float> c2, out Vector512<float> c3)
    {
        var r0 = Vector512.LoadUnsafe(ref rows);
        var r1 = Vector512.LoadUnsafe(ref Unsafe.Add(ref rows, stride));
        var r2 = Vector512.LoadUnsafe(ref Unsafe.Add(ref rows, 2 * stride));
        var r3 = Vector512.LoadUnsafe(ref Unsafe.Add(ref rows, 3 * stride));
        var t0 = Avx512F.UnpackLow(r0, r1).AsDouble();
        var t1 = Avx512F.UnpackHigh(r0, r1).AsDouble();
        var t2 = Avx512F.UnpackLow(r2, r3).AsDouble();
        var t3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
        c0 = Avx512F.UnpackLow(t0, t2).AsSingle();
        c1 = Avx512F.UnpackHigh(t0, t2).AsSingle();
        c2 = Avx512F.UnpackLow(t1, t3).AsSingle();
        c3 = Avx512F.UnpackHigh(t1, t3).AsSingle();
    }

    /// <summary>
    /// The outputs c of the four row groups in; writes columns c, 4 + c, 8 + c and 12 + c (from <paramref name="destination"/>,
    /// which points at column c's row, every 4 strides).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Gather(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, Vector512<float> g3, ref float destination, nint stride)
    {
        // Shuffle4x128(a, b, imm): 128-bit lanes a[imm1:0], a[imm3:2], b[imm5:4], b[imm7:6].
        var s0 = Avx512F.Shuffle4x128(g0, g1, 0x44);
        var s1 = Avx512F.Shuffle4x128(g0, g1, 0xEE);
        var s2 = Avx512F.Shuffle4x128(g2, g3, 0x44);
        var s3 = Avx512F.Shuffle4x128(g2, g3, 0xEE);
        Avx512F.Shuffle4x128(s0, s2, 0x88).StoreUnsafe(ref destination);
        Avx512F.Shuffle4x128(s0, s2, 0xDD).StoreUnsafe(ref Unsafe.Add(ref destination, 4 * stride));
        Avx512F.Shuffle4x128(s1, s3, 0x88).StoreUnsafe(ref Unsafe.Add(ref destination, 8 * stride));
        Avx512F.Shuffle4x128(s1, s3, 0xDD).StoreUnsafe(ref Unsafe.Add(ref destination, 12 * stride));
    }

    /// <summary>destination[q·destinationStride + r] = source[r·sourceStride + q] for r, q in 0..7 (needs AVX).</summary>
    /// <remarks>
    /// Interleave pairs of rows (unpack ps), then pairs of pairs (unpack pd), which leaves 128-bit lane L of s[c] holding
    /// column 4L + c of four rows; one 128-bit lane permute per column joins the two row groups.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block8(ref float source, nint sourceStride, ref float destination, nint destinationStride)
    {
        Interleave8(ref source, sourceStride, out var s0, out var s1, out var s2, out var s3);
        Interleave8(ref Unsafe.Add(ref source, 4 * sourceStride), sourceStride, out var s4, out var s5, out var s6, out var s7);
        // Permute2x128(a, b, 0x20) = a's low lane, b's low lane; 0x31 = the high lanes.
        Avx.Permute2x128(s0, s4, 0x20).StoreUnsafe(ref destination);
        Avx.Permute2x128(s1, s5, 0x20).StoreUnsafe(ref Unsafe.Add(ref destination, destinationStride));
        Avx.Permute2x128(s2, s6, 0x20).StoreUnsafe(ref Unsafe.Add(ref destination, 2 * destinationStride));
        Avx.Permute2x128(s3, s7, 0x20).StoreUnsafe(ref Unsafe.Add(ref destination, 3 * destinationStride));
        Avx.Permute2x128(s0, s4, 0x31).StoreUnsafe(ref Unsafe.Add(ref destination, 4 * destinationStride));
        Avx.Permute2x128(s1, s5, 0x31).StoreUnsafe(ref Unsafe.Add(ref destination, 5 * destinationStride));
        Avx.Permute2x128(s2, s6, 0x31).StoreUnsafe(ref Unsafe.Add(ref destination, 6 * destinationStride));
        Avx.Permute2x128(s3, s7, 0x31).StoreUnsafe(ref Unsafe.Add(ref destination, 7 * destinationStride));
    }

    /// <summary>Rows r0..r3 in; lane L of output c holds column 4L + c of the four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave8(ref float rows, nint stride, out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3)
    {
        var r0 = Vector256.LoadUnsafe(ref rows);
        var r1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref rows, stride));
        var r2 = Vector256.LoadUnsafe(ref Unsafe.Add(ref rows, 2 * stride));
        var r3 = Vector256.LoadUnsafe(ref Unsafe.Add(ref rows, 3 * stride));
        var t0 = Avx.UnpackLow(r0, r1).AsDouble();
        var t1 = Avx.UnpackHigh(r0, r1).AsDouble();
        var t2 = Avx.UnpackLow(r2, r3).AsDouble();
        var t3 = Avx.UnpackHigh(r2, r3).AsDouble();
        c0 = Avx.UnpackLow(t0, t2).AsSingle();
        c1 = Avx.UnpackHigh(t0, t2).AsSingle();
        c2 = Avx.UnpackLow(t1, t3).AsSingle();
        c3 = Avx.UnpackHigh(t1, t3).AsSingle();
    }
}
