using System.Globalization;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// A Rosenbrock (linearly implicit Runge–Kutta) method in the transformed variables of Hairer and Wanner (Solving
/// Ordinary Differential Equations II, §IV.7, the form their RODAS code runs): each stage solves
/// (I/(hγ) − J)·u_i = f(t + c_i h, y0 + Σ_{j&lt;i} a_ij u_j) + Σ_{j&lt;i} (C_ij/h)·u_j + h·d_i·∂f/∂t,
/// with one LU factorisation of I − hγJ per step, and y1 = y0 + Σ m_j u_j, error = Σ e_j u_j.
/// </summary>
/// <remarks>
/// <para>
/// The transformed coefficients relate to the classical ones (α, Γ with γ on its diagonal, b) by
/// Γ⁻¹ = diag(1/γ) − C, a = αΓ⁻¹, mᵀ = bᵀΓ⁻¹, d_i = Σ_j Γ_ij. The constructor recovers α, Γ and b and checks that
/// c_i = Σ_j α_ij, d_i = Σ_j Γ_ij and Σ b_i = 1, so a mistyped coefficient fails here rather than as a lost order.
/// </para>
/// <para>
/// Dense output, when given: with K_r = Σ_j H_rj u_j, y(t0 + θh) = (1 − θ)·y0 + θ·(y1 + (1 − θ)·(K_1 + θ·(K_2 + θ·(K_3 + …)))).
/// </para>
/// </remarks>
public sealed class RosenbrockTableau
{
    private const double Tolerance = 1e-10;
    private readonly double[][] a, cMatrix, dense, alpha, gammaMatrix;
    private readonly double[] c, d, m, mError, b;

    /// <summary>Creates a tableau from its transformed coefficients (see the type's summary).</summary>
    /// <param name="name">The method's name.</param>
    /// <param name="gamma">The diagonal γ of Γ.</param>
    /// <param name="a">a_ij, strictly lower triangular: row i has i entries.</param>
    /// <param name="cMatrix">C_ij, strictly lower triangular: row i has i entries.</param>
    /// <param name="c">The stage times c_i.</param>
    /// <param name="d">The time-derivative weights d_i (= γ_i = Σ_j Γ_ij).</param>
    /// <param name="m">The solution weights.</param>
    /// <param name="mError">The error weights m − m̂ (summing the stages into the error estimate).</param>
    /// <param name="order">The order of the propagated solution.</param>
    /// <param name="embeddedOrder">The order of the embedded solution.</param>
    /// <param name="denseOutput">The rows H_r of the continuous extension, each with one weight per stage, or null.</param>
    /// <param name="denseOrder">The order of the continuous extension (0 without one).</param>
    public RosenbrockTableau(string name, double gamma, double[][] a, double[][] cMatrix, double[] c, double[] d, double[] m,
        double[] mError, int order, int embeddedOrder, double[][]? denseOutput = null, int denseOrder = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(cMatrix);
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(d);
        ArgumentNullException.ThrowIfNull(m);
        ArgumentNullException.ThrowIfNull(mError);
        int s = c.Length;
        if (s == 0) throw new ArgumentException($"{name}: a method needs at least one stage.", nameof(c));
        if (!(gamma > 0) || !double.IsFinite(gamma)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, $"{name}: γ must be positive and finite.");
        CheckLower(name, a, s, nameof(a));
        CheckLower(name, cMatrix, s, nameof(cMatrix));
        CheckLength(name, d, s, nameof(d));
        CheckLength(name, m, s, nameof(m));
        CheckLength(name, mError, s, nameof(mError));
        ArgumentOutOfRangeException.ThrowIfLessThan(order, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(embeddedOrder, 1);
        if (denseOutput is not null)
        {
            if (denseOutput.Length == 0) throw new ArgumentException($"{name}: dense output needs at least one row.", nameof(denseOutput));
            foreach (double[] row in denseOutput) CheckLength(name, row, s, nameof(denseOutput));
            ArgumentOutOfRangeException.ThrowIfLessThan(denseOrder, 1);
        }

        // Γ⁻¹ = diag(1/γ) − C, then Γ by forward substitution, α = aΓ, bᵀ = mᵀΓ.
        var inverse = new double[s, s];
        for (int i = 0; i < s; i++)
        {
            inverse[i, i] = 1 / gamma;
            for (int j = 0; j < i; j++) inverse[i, j] = -cMatrix[i][j];
        }
        var g = new double[s][];
        for (int i = 0; i < s; i++)
        {
            g[i] = new double[s];
            // Row i of Γ solves Γ_i·Γ⁻¹ = e_i: Γ_ij = (δ_ij − Σ_{j<k≤i} Γ_ik Γ⁻¹_kj)/Γ⁻¹_jj, for j = i down to 0.
            for (int j = i; j >= 0; j--)
            {
                double sum = i == j ? 1 : 0;
                for (int k = j + 1; k <= i; k++) sum -= g[i][k] * inverse[k, j];
                g[i][j] = sum / inverse[j, j];
            }
        }
        var al = new double[s][];
        var bw = new double[s];
        for (int i = 0; i < s; i++)
        {
            al[i] = new double[s];
            for (int j = 0; j < i; j++)
            {
                double sum = 0;
                for (int k = j; k < i; k++) sum += a[i][k] * g[k][j];
                al[i][j] = sum;
            }
        }
        for (int j = 0; j < s; j++)
        {
            double sum = 0;
            for (int k = j; k < s; k++) sum += m[k] * g[k][j];
            bw[j] = sum;
        }
        for (int i = 0; i < s; i++)
        {
            double ci = al[i].Sum(), di = g[i].Sum();
            if (Math.Abs(ci - c[i]) > Tolerance * Math.Max(1, Math.Abs(c[i])))
                throw new ArgumentException($"{name}: stage {i}'s α row sums to {Format(ci)} but c[{i}] = {Format(c[i])}.", nameof(c));
            if (Math.Abs(di - d[i]) > Tolerance * Math.Max(1, Math.Abs(d[i])))
                throw new ArgumentException($"{name}: stage {i}'s Γ row sums to {Format(di)} but d[{i}] = {Format(d[i])}.", nameof(d));
        }
        double bSum = bw.Sum();
        if (Math.Abs(bSum - 1) > Tolerance) throw new ArgumentException($"{name}: the classical weights b sum to {Format(bSum)}, not 1.", nameof(m));

        Name = name;
        Gamma = gamma;
        this.a = a.Select(r => (double[])r.Clone()).ToArray();
        this.cMatrix = cMatrix.Select(r => (double[])r.Clone()).ToArray();
        this.c = (double[])c.Clone();
        this.d = (double[])d.Clone();
        this.m = (double[])m.Clone();
        this.mError = (double[])mError.Clone();
        dense = denseOutput?.Select(r => (double[])r.Clone()).ToArray() ?? [];
        alpha = al;
        gammaMatrix = g;
        b = bw;
        Order = order;
        EmbeddedOrder = embeddedOrder;
        DenseOrder = denseOutput is null ? 0 : denseOrder;
    }

    /// <summary>The method's name.</summary>
    public string Name { get; }

    /// <summary>The number of stages.</summary>
    public int Stages => c.Length;

    /// <summary>The diagonal γ: each step factors I − hγJ.</summary>
    public double Gamma { get; }

    /// <summary>The order of the propagated solution.</summary>
    public int Order { get; }

    /// <summary>The order of the embedded solution.</summary>
    public int EmbeddedOrder { get; }

    /// <summary>The order of the continuous extension, 0 when the method has none (the loop then uses cubic Hermite).</summary>
    public int DenseOrder { get; }

    /// <summary>The stage times c_i.</summary>
    public ReadOnlySpan<double> C => c;

    /// <summary>The time-derivative weights d_i.</summary>
    public ReadOnlySpan<double> D => d;

    /// <summary>The solution weights m_j.</summary>
    public ReadOnlySpan<double> M => m;

    /// <summary>The error weights m_j − m̂_j.</summary>
    public ReadOnlySpan<double> MError => mError;

    /// <summary>a_ij (j &lt; i) of the transformed stage arguments.</summary>
    public ReadOnlySpan<double> A(int stage) => a[stage];

    /// <summary>C_ij (j &lt; i) of the transformed stage equations.</summary>
    public ReadOnlySpan<double> CMatrix(int stage) => cMatrix[stage];

    /// <summary>The rows of the continuous extension (none when <see cref="DenseOrder"/> is 0).</summary>
    public int DenseRows => dense.Length;

    /// <summary>Row <paramref name="row"/> of the continuous extension's H.</summary>
    public ReadOnlySpan<double> Dense(int row) => dense[row];

    /// <summary>The classical α_ij (j &lt; i), recovered from a and C.</summary>
    internal ReadOnlySpan<double> Alpha(int stage) => alpha[stage];

    /// <summary>The classical Γ_ij (j ≤ i, γ on the diagonal), recovered from C.</summary>
    internal ReadOnlySpan<double> GammaRow(int stage) => gammaMatrix[stage];

    /// <summary>The classical weights b_j, recovered from m.</summary>
    internal ReadOnlySpan<double> B => b;

    /// <inheritdoc />
    public override string ToString() => Name;

    private static void CheckLower(string name, double[][] rows, int s, string argument)
    {
        if (rows.Length != s) throw new ArgumentException($"{name}: {argument} has {rows.Length} rows but c has {s} stages.", argument);
        for (int i = 0; i < s; i++)
        {
            if (rows[i] is null || rows[i].Length != i)
                throw new ArgumentException($"{name}: row {i} of {argument} must have {i} entries (strictly lower triangular), got {rows[i]?.Length ?? 0}.", argument);
            foreach (double v in rows[i])
            {
                if (!double.IsFinite(v)) throw new ArgumentException($"{name}: row {i} of {argument} holds {Format(v)}.", argument);
            }
        }
    }

    private static void CheckLength(string name, double[]? values, int s, string argument)
    {
        if (values is null || values.Length != s)
            throw new ArgumentException($"{name}: {argument} has {values?.Length ?? 0} entries but c has {s} stages.", argument);
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) throw new ArgumentException($"{name}: {argument} holds {Format(v)}.", argument);
        }
    }

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
