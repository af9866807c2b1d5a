using System.Numerics;

namespace NeuralOde.AutoDiff.Kernels;

/// <summary>Matrix products (placeholder scalar loops; replaced by the blocked SIMD kernels).</summary>
public static class Gemm
{
    /// <summary>C[m×n] = (accumulate ? C : 0) + A[m×k]·B[k×n].</summary>
    public static void MultiplyNN<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T s = accumulate ? c[i * n + j] : T.Zero;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
                c[i * n + j] = s;
            }
    }

    /// <summary>C[m×n] = (accumulate ? C : 0) + A[m×k]·B[n×k]ᵀ.</summary>
    public static void MultiplyNT<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T s = accumulate ? c[i * n + j] : T.Zero;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[j * k + p];
                c[i * n + j] = s;
            }
    }

    /// <summary>C[m×n] = (accumulate ? C : 0) + A[k×m]ᵀ·B[k×n].</summary>
    public static void MultiplyTN<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T s = accumulate ? c[i * n + j] : T.Zero;
                for (int p = 0; p < k; p++) s += a[p * m + i] * b[p * n + j];
                c[i * n + j] = s;
            }
    }
}
