using System.Numerics;

namespace NeuralOde.AutoDiff.Kernels;

/// <summary>The oracle for <see cref="Gemm"/>: a plain triple loop that accumulates every dot product in double.</summary>
/// <remarks>
/// Each C[i, j] is (accumulate ? C[i, j] : 0) + Σ_p A[i, p]·B[p, j], summed in <see cref="double"/> in ascending p and
/// rounded to <typeparamref name="T"/> once. For float that is far more accurate than any float kernel; for double it is
/// ordinary double arithmetic (no FMA), so it still differs from the kernels in rounding, as an independent check should.
/// Slow by design; for tests and benchmarks only. Arguments are validated as in <see cref="Gemm"/>.
/// </remarks>
/// <typeparam name="T">float or double.</typeparam>
internal static class GemmReference<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>C[m×n] = (accumulate ? C : 0) + A[m×k]·B[k×n].</summary>
    public static void MultiplyNN(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate)
    {
        GemmThrowHelper.Validate(a, b, c, m, k, n, GemmLayout.NN);
        Multiply(a, b, c, m, k, n, accumulate, (i, p) => i * k + p, (p, j) => p * n + j);
    }

    /// <summary>C[m×n] = (accumulate ? C : 0) + A[m×k]·B[n×k]ᵀ.</summary>
    public static void MultiplyNT(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate)
    {
        GemmThrowHelper.Validate(a, b, c, m, k, n, GemmLayout.NT);
        Multiply(a, b, c, m, k, n, accumulate, (i, p) => i * k + p, (p, j) => j * k + p);
    }

    /// <summary>C[m×n] = (accumulate ? C : 0) + A[k×m]ᵀ·B[k×n].</summary>
    public static void MultiplyTN(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate)
    {
        GemmThrowHelper.Validate(a, b, c, m, k, n, GemmLayout.TN);
        Multiply(a, b, c, m, k, n, accumulate, (i, p) => p * m + i, (p, j) => p * n + j);
    }

    private static void Multiply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate, Func<int, int, int> aIndex, Func<int, int, int> bIndex)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = accumulate ? double.CreateChecked(c[i * n + j]) : 0.0;
                for (int p = 0; p < k; p++) sum += double.CreateChecked(a[aIndex(i, p)]) * double.CreateChecked(b[bIndex(p, j)]);
                c[i * n + j] = T.CreateChecked(sum);
            }
        }
    }
}
