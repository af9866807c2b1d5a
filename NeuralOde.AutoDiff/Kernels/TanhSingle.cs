using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralOde.AutoDiff.Kernels;

/// <summary>
/// tanh in float, computed in float, within 1 ulp of the correctly rounded value for every input (checked against
/// <see cref="Math.Tanh(double)"/> on every non-negative float; the function is odd and the sign is copied), and
/// bitwise the same at every vector width and in the scalar tail: each lane runs the same sequence of correctly rounded
/// IEEE operations and fused multiply–adds.
/// </summary>
/// <remarks>
/// <para>
/// Two formulas, one chosen per lane by |x|. A vector whose lanes all fall on one side evaluates only that formula
/// (hidden-layer pre-activations within ±1 skip the exponential and the division, half the cost); a mixed vector
/// evaluates both and selects per lane, so each lane's result is the same either way.
/// </para>
/// <list type="bullet">
/// <item>|x| ≤ 1: tanh y = y + y·z·P(z) with z = y², P an odd-part minimax polynomial of degree 6 in z fitted to
/// (tanh y / y − 1)/z (its own error is under 0.08 ulp of the result). The correction y·z·P is at most a quarter
/// of y, so the one rounding of the final fused multiply–add dominates.</item>
/// <item>|x| &gt; 1: tanh y = 1 − 2/(e^{2y} + 1). e^{2y} = 2^k·e^r with k = round(2y/ln 2) and r reduced in two
/// parts (Cody and Waite, <i>Software Manual for the Elementary Functions</i>, 1980), |r| ≤ ln 2 / 2, and e^r − 1 by its
/// Taylor polynomial to r⁶. The quotient is below 0.24, so its error is at most a quarter of the result's ulp.</item>
/// </list>
/// <para>
/// |x| is clamped to 9.5 first (tanh 9.5 rounds to 1 in float, and 2^k stays a normal number); NaN passes through
/// the clamp and comes out NaN. 0.12 % of floats are 1 ulp off the correctly rounded value, none more.
/// TensorPrimitives.Tanh computes (1 − e^{−2y})/(1 + e^{−2y}) with e^{−2y} rounded to float first, which loses
/// relative accuracy below |x| ≈ 0.1 (thousands of ulps near 1e-4; an absolute error near 6e-8) and rounds differently
/// in its scalar tail (so its results depend on the width); this kernel also costs less per element at every width
/// (docs/benchmarks/tanh-2026-12-03.md).
/// </para>
/// </remarks>
internal readonly struct TanhSingle : IUnaryOperator<float>
{
    private const float Clamp = 9.5f;
    private const float Split = 1f;

    // P(z), z = y² on [0, 1]: minimax for the relative error of the result.
    private const float P0 = -0.33333295583724976f, P1 = 0.13332344591617584f, P2 = -0.05387980118393898f,
        P3 = 0.021486656740307808f, P4 = -0.007946105673909187f, P5 = 0.002301363740116358f, P6 = -0.0003584517689887434f;

    private const float Log2E = 1.44269504f;
    // ln 2 = Ln2High + Ln2Low, Ln2High with 9 significant bits, so k·Ln2High is exact for |k| ≤ 2^15.
    private const float Ln2High = 0.693359375f, Ln2Low = -2.12194440e-4f;
    // 1.5·2^23 + 127: adding it rounds 2y/ln 2 to an integer k held in the low bits as k + 127, the exponent bias.
    private const float Shifter = 12582912f + 127f;
    private const float E2 = 0.5f, E3 = 1f / 6, E4 = 1f / 24, E5 = 1f / 120, E6 = 1f / 720;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Invoke(float x)
    {
        float y = MathF.Abs(x);
        y = y > Clamp ? Clamp : y; // NaN stays NaN
        float z = y * y;
        float p = float.FusedMultiplyAdd(P6, z, P5);
        p = float.FusedMultiplyAdd(p, z, P4);
        p = float.FusedMultiplyAdd(p, z, P3);
        p = float.FusedMultiplyAdd(p, z, P2);
        p = float.FusedMultiplyAdd(p, z, P1);
        p = float.FusedMultiplyAdd(p, z, P0);
        float small = float.FusedMultiplyAdd(y * z, p, y);

        float t = y + y;
        float shifted = float.FusedMultiplyAdd(t, Log2E, Shifter);
        float k = shifted - Shifter;
        float twoK = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(shifted) << 23);
        float r = float.FusedMultiplyAdd(k, -Ln2High, t);
        r = float.FusedMultiplyAdd(k, -Ln2Low, r);
        float e = float.FusedMultiplyAdd(E6, r, E5);
        e = float.FusedMultiplyAdd(e, r, E4);
        e = float.FusedMultiplyAdd(e, r, E3);
        e = float.FusedMultiplyAdd(e, r, E2);
        e = float.FusedMultiplyAdd(e, r * r, r);
        float exp2y = float.FusedMultiplyAdd(twoK, e, twoK);
        float big = 1f - 2f / (exp2y + 1f);

        float magnitude = y <= Split ? small : big;
        return BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(magnitude) | (BitConverter.SingleToInt32Bits(x) & int.MinValue));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Invoke(Vector128<float> x)
    {
        var y = Vector128.MinNative(Vector128.Create(Clamp), Vector128.Abs(x)); // NaN in the second operand passes
        var sign = x & Vector128.Create(-0f);
        var isSmall = Vector128.LessThanOrEqual(y, Vector128.Create(Split));
        // Each lane takes the same formula either way; a vector whose lanes all fall on one side skips the other.
        var lanes = isSmall.ExtractMostSignificantBits();
        if (lanes == 0xFu) return Small(y) | sign;
        if (lanes == 0) return Big(y) | sign;
        return Vector128.ConditionalSelect(isSmall, Small(y), Big(y)) | sign;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Small(Vector128<float> y)
    {
        var z = y * y;
        var p = Vector128.FusedMultiplyAdd(Vector128.Create(P6), z, Vector128.Create(P5));
        p = Vector128.FusedMultiplyAdd(p, z, Vector128.Create(P4));
        p = Vector128.FusedMultiplyAdd(p, z, Vector128.Create(P3));
        p = Vector128.FusedMultiplyAdd(p, z, Vector128.Create(P2));
        p = Vector128.FusedMultiplyAdd(p, z, Vector128.Create(P1));
        p = Vector128.FusedMultiplyAdd(p, z, Vector128.Create(P0));
        return Vector128.FusedMultiplyAdd(y * z, p, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Big(Vector128<float> y)
    {
        var t = y + y;
        var shifted = Vector128.FusedMultiplyAdd(t, Vector128.Create(Log2E), Vector128.Create(Shifter));
        var k = shifted - Vector128.Create(Shifter);
        var twoK = Vector128.ShiftLeft(shifted.AsInt32(), 23).AsSingle();
        var r = Vector128.FusedMultiplyAdd(k, Vector128.Create(-Ln2High), t);
        r = Vector128.FusedMultiplyAdd(k, Vector128.Create(-Ln2Low), r);
        var e = Vector128.FusedMultiplyAdd(Vector128.Create(E6), r, Vector128.Create(E5));
        e = Vector128.FusedMultiplyAdd(e, r, Vector128.Create(E4));
        e = Vector128.FusedMultiplyAdd(e, r, Vector128.Create(E3));
        e = Vector128.FusedMultiplyAdd(e, r, Vector128.Create(E2));
        e = Vector128.FusedMultiplyAdd(e, r * r, r);
        var exp2y = Vector128.FusedMultiplyAdd(twoK, e, twoK);
        return Vector128<float>.One - Vector128.Create(2f) / (exp2y + Vector128<float>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Invoke(Vector256<float> x)
    {
        var y = Vector256.MinNative(Vector256.Create(Clamp), Vector256.Abs(x)); // NaN in the second operand passes
        var sign = x & Vector256.Create(-0f);
        var isSmall = Vector256.LessThanOrEqual(y, Vector256.Create(Split));
        // Each lane takes the same formula either way; a vector whose lanes all fall on one side skips the other.
        var lanes = isSmall.ExtractMostSignificantBits();
        if (lanes == 0xFFu) return Small(y) | sign;
        if (lanes == 0) return Big(y) | sign;
        return Vector256.ConditionalSelect(isSmall, Small(y), Big(y)) | sign;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Small(Vector256<float> y)
    {
        var z = y * y;
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(P6), z, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(P0));
        return Vector256.FusedMultiplyAdd(y * z, p, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Big(Vector256<float> y)
    {
        var t = y + y;
        var shifted = Vector256.FusedMultiplyAdd(t, Vector256.Create(Log2E), Vector256.Create(Shifter));
        var k = shifted - Vector256.Create(Shifter);
        var twoK = Vector256.ShiftLeft(shifted.AsInt32(), 23).AsSingle();
        var r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2High), t);
        r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2Low), r);
        var e = Vector256.FusedMultiplyAdd(Vector256.Create(E6), r, Vector256.Create(E5));
        e = Vector256.FusedMultiplyAdd(e, r, Vector256.Create(E4));
        e = Vector256.FusedMultiplyAdd(e, r, Vector256.Create(E3));
        e = Vector256.FusedMultiplyAdd(e, r, Vector256.Create(E2));
        e = Vector256.FusedMultiplyAdd(e, r * r, r);
        var exp2y = Vector256.FusedMultiplyAdd(twoK, e, twoK);
        return Vector256<float>.One - Vector256.Create(2f) / (exp2y + Vector256<float>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Invoke(Vector512<float> x)
    {
        var y = Vector512.MinNative(Vector512.Create(Clamp), Vector512.Abs(x)); // NaN in the second operand passes
        var sign = x & Vector512.Create(-0f);
        var isSmall = Vector512.LessThanOrEqual(y, Vector512.Create(Split));
        // Each lane takes the same formula either way; a vector whose lanes all fall on one side skips the other.
        var lanes = isSmall.ExtractMostSignificantBits();
        if (lanes == 0xFFFFul) return Small(y) | sign;
        if (lanes == 0) return Big(y) | sign;
        return Vector512.ConditionalSelect(isSmall, Small(y), Big(y)) | sign;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Small(Vector512<float> y)
    {
        var z = y * y;
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(P6), z, Vector512.Create(P5));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(P0));
        return Vector512.FusedMultiplyAdd(y * z, p, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Big(Vector512<float> y)
    {
        var t = y + y;
        var shifted = Vector512.FusedMultiplyAdd(t, Vector512.Create(Log2E), Vector512.Create(Shifter));
        var k = shifted - Vector512.Create(Shifter);
        var twoK = Vector512.ShiftLeft(shifted.AsInt32(), 23).AsSingle();
        var r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2High), t);
        r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2Low), r);
        var e = Vector512.FusedMultiplyAdd(Vector512.Create(E6), r, Vector512.Create(E5));
        e = Vector512.FusedMultiplyAdd(e, r, Vector512.Create(E4));
        e = Vector512.FusedMultiplyAdd(e, r, Vector512.Create(E3));
        e = Vector512.FusedMultiplyAdd(e, r, Vector512.Create(E2));
        e = Vector512.FusedMultiplyAdd(e, r * r, r);
        var exp2y = Vector512.FusedMultiplyAdd(twoK, e, twoK);
        return Vector512<float>.One - Vector512.Create(2f) / (exp2y + Vector512<float>.One);
    }
}
