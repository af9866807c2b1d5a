using System.Diagnostics.CodeAnalysis;

namespace NeuralOde.AutoDiff.Kernels;

/// <summary>Argument checks for the GEMM entry points, with messages that name the argument and the sizes.</summary>
internal static class GemmThrowHelper
{
    /// <summary>Throws unless m, k and n are non-negative and each span holds its matrix; C must not overlap A or B.</summary>
    public static void Validate<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, GemmLayout layout)
    {
        if (m < 0) ThrowNegative(nameof(m), m);
        if (k < 0) ThrowNegative(nameof(k), k);
        if (n < 0) ThrowNegative(nameof(n), n);
        long aLength = (long)m * k, bLength = (long)k * n, cLength = (long)m * n;
        if (a.Length < aLength) ThrowTooShort(nameof(a), a.Length, layout == GemmLayout.TN ? $"{k}×{m} (Aᵀ with m = {m}, k = {k})" : $"{m}×{k}", aLength);
        if (b.Length < bLength) ThrowTooShort(nameof(b), b.Length, layout == GemmLayout.NT ? $"{n}×{k} (Bᵀ with k = {k}, n = {n})" : $"{k}×{n}", bLength);
        if (c.Length < cLength) ThrowTooShort(nameof(c), c.Length, $"{m}×{n}", cLength);
        ReadOnlySpan<T> cUsed = c[..(int)cLength];
        if (cUsed.Overlaps(a[..(int)aLength]) || cUsed.Overlaps(b[..(int)bLength])) ThrowOverlap();
    }

    [DoesNotReturn]
    private static void ThrowNegative(string name, int value) =>
        throw new ArgumentOutOfRangeException(name, value, $"Matrix size {name} must be non-negative, but was {value}.");

    [DoesNotReturn]
    private static void ThrowTooShort(string name, int length, string shape, long needed) =>
        throw new ArgumentException($"Span {name} has {length} elements, but a {shape} matrix needs {needed}.", name);

    [DoesNotReturn]
    private static void ThrowOverlap() =>
        throw new ArgumentException("The destination c overlaps an input (a or b); products are not computed in place.", "c");
}
