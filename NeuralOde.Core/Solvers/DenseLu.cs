namespace NeuralOde.Core.Solvers;

/// <summary>
/// LU factorisation with partial pivoting of a small dense n×n matrix, in place and allocation-free once created
/// (Golub and Van Loan, Matrix Computations, Algorithm 3.4.1), for the linear systems of implicit steps.
/// </summary>
internal sealed class DenseLu
{
    private readonly int n;
    private readonly double[] a;
    private readonly int[] pivots;

    public DenseLu(int n)
    {
        this.n = n;
        a = new double[n * n];
        pivots = new int[n];
    }

    /// <summary>The matrix, row-major: write it, then <see cref="Factor"/> overwrites it with L (unit lower) and U.</summary>
    public Span<double> Matrix => a;

    /// <summary>Factors PA = LU in place; false when a pivot is zero or not finite (the matrix is singular or not finite).</summary>
    public bool Factor()
    {
        for (int k = 0; k < n; k++)
        {
            int p = k;
            double best = Math.Abs(a[k * n + k]);
            for (int i = k + 1; i < n; i++)
            {
                double v = Math.Abs(a[i * n + k]);
                if (v > best)
                {
                    best = v;
                    p = i;
                }
            }
            if (!(best > 0) || !double.IsFinite(best)) return false;
            pivots[k] = p;
            if (p != k)
            {
                for (int j = 0; j < n; j++) (a[k * n + j], a[p * n + j]) = (a[p * n + j], a[k * n + j]);
            }
            double inverse = 1 / a[k * n + k];
            for (int i = k + 1; i < n; i++)
            {
                double l = a[i * n + k] * inverse;
                a[i * n + k] = l;
                if (l == 0) continue;
                for (int j = k + 1; j < n; j++) a[i * n + j] -= l * a[k * n + j];
            }
        }
        for (int i = 0; i < n * n; i++)
        {
            if (!double.IsFinite(a[i])) return false;
        }
        return true;
    }

    /// <summary>Solves A x = b in place with the last factorisation.</summary>
    public void Solve(Span<double> b)
    {
        for (int k = 0; k < n; k++)
        {
            int p = pivots[k];
            if (p != k) (b[k], b[p]) = (b[p], b[k]);
        }
        for (int i = 1; i < n; i++)
        {
            double sum = b[i];
            for (int j = 0; j < i; j++) sum -= a[i * n + j] * b[j];
            b[i] = sum;
        }
        for (int i = n - 1; i >= 0; i--)
        {
            double sum = b[i];
            for (int j = i + 1; j < n; j++) sum -= a[i * n + j] * b[j];
            b[i] = sum / a[i * n + i];
        }
    }

    /// <summary>
    /// Solves Aᵀ x = b in place with the last factorisation: Aᵀ = Uᵀ·Lᵀ·P, so Uᵀ z = b forward, Lᵀ v = z backward,
    /// then x = Pᵀ v (the row swaps undone in reverse order). What a gradient through an implicit step needs.
    /// </summary>
    public void SolveTransposed(Span<double> b)
    {
        for (int i = 0; i < n; i++)
        {
            double sum = b[i];
            for (int j = 0; j < i; j++) sum -= a[j * n + i] * b[j];
            b[i] = sum / a[i * n + i];
        }
        for (int i = n - 2; i >= 0; i--)
        {
            double sum = b[i];
            for (int j = i + 1; j < n; j++) sum -= a[j * n + i] * b[j];
            b[i] = sum;
        }
        for (int k = n - 1; k >= 0; k--)
        {
            int p = pivots[k];
            if (p != k) (b[k], b[p]) = (b[p], b[k]);
        }
    }
}
