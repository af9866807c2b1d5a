using System.Globalization;

namespace NeuralOde.Core.Solvers;

/// <summary>The coefficients of an explicit Runge–Kutta method: c, the lower-triangular A, b, and b − b̂.</summary>
/// <remarks>
/// <para>
/// Stage i (0-based) is k_i = f(t + c_i·h, y0 + h·Σ_{j&lt;i} A_ij·k_j); the step is y1 = y0 + h·Σ b_i·k_i and, for an
/// embedded pair, the error estimate is h·Σ (b_i − b̂_i)·k_i, stored directly as <see cref="BError"/>. Notation p(q):
/// <see cref="Order"/> p is the order of the propagated solution, <see cref="EmbeddedOrder"/> q that of the embedded one.
/// </para>
/// <para>
/// The constructor validates the numbers (row sums of A equal c, Σb = 1, Σ(b − b̂) = 0, lengths) and derives
/// <see cref="IsFsal"/> (the last stage is f(t1, y1), so it is the next step's first stage) and <see cref="Stages"/>.
/// Dense output, when given, is a polynomial weight per stage, b_i(θ) = Σ_m D_im·θ^(m+1), so that
/// y(t0 + θh) = y0 + h·Σ b_i(θ)·k_i and b_i(1) = b_i.
/// </para>
/// </remarks>
public sealed class ButcherTableau
{
    private const double Tolerance = 1e-12;
    private readonly double[] c;
    private readonly double[][] a;
    private readonly double[] b;
    private readonly double[] bError;
    private readonly double[][]? dense;

    /// <summary>Creates and validates a tableau.</summary>
    /// <param name="name">A display name (used by <see cref="ToString"/>; never to look a method up).</param>
    /// <param name="c">The nodes c_i, one per stage; c_0 must be 0.</param>
    /// <param name="a">The rows of A: row i holds the i coefficients A_i0 … A_i,i−1 (row 0 is empty).</param>
    /// <param name="b">The weights of the propagated solution, one per stage.</param>
    /// <param name="order">The order p of the propagated solution.</param>
    /// <param name="bError">b − b̂ for an embedded pair, one per stage; null for a fixed-step method.</param>
    /// <param name="embeddedOrder">The order q of the embedded solution; 0 when <paramref name="bError"/> is null.</param>
    /// <param name="denseOutput">Per stage, the coefficients D_im of b_i(θ) = Σ_m D_im·θ^(m+1); null when the method has no own continuous extension.</param>
    /// <exception cref="ArgumentException">The coefficients are inconsistent; the message names the failed condition.</exception>
    public ButcherTableau(string name, double[] c, double[][] a, double[] b, int order, double[]? bError = null, int embeddedOrder = 0, double[][]? denseOutput = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int s = c.Length;
        if (s == 0) throw new ArgumentException($"{name}: a tableau needs at least one stage.", nameof(c));
        if (c[0] != 0) throw new ArgumentException($"{name}: c[0] must be 0 for an explicit method, got {Format(c[0])}.", nameof(c));
        if (a.Length != s) throw new ArgumentException($"{name}: A has {a.Length} rows but c has {s} stages.", nameof(a));
        if (b.Length != s) throw new ArgumentException($"{name}: b has {b.Length} entries but c has {s} stages.", nameof(b));
        ArgumentOutOfRangeException.ThrowIfLessThan(order, 1);
        for (int i = 0; i < s; i++)
        {
            if (a[i] is null || a[i].Length != i)
                throw new ArgumentException($"{name}: row {i} of A must have {i} entries (strictly lower triangular), got {a[i]?.Length ?? 0}.", nameof(a));
            double rowSum = a[i].Sum();
            if (Math.Abs(rowSum - c[i]) > Tolerance * Math.Max(1, Math.Abs(c[i])))
                throw new ArgumentException($"{name}: row {i} of A sums to {Format(rowSum)} but c[{i}] = {Format(c[i])}.", nameof(a));
        }
        double bSum = b.Sum();
        if (Math.Abs(bSum - 1) > Tolerance) throw new ArgumentException($"{name}: the weights b sum to {Format(bSum)}, not 1.", nameof(b));

        if (bError is null)
        {
            if (embeddedOrder != 0) throw new ArgumentException($"{name}: an embedded order {embeddedOrder} needs error weights.", nameof(embeddedOrder));
        }
        else
        {
            if (bError.Length != s) throw new ArgumentException($"{name}: b − b̂ has {bError.Length} entries but c has {s} stages.", nameof(bError));
            double eSum = bError.Sum();
            if (Math.Abs(eSum) > Tolerance) throw new ArgumentException($"{name}: the error weights b − b̂ sum to {Format(eSum)}, not 0.", nameof(bError));
            ArgumentOutOfRangeException.ThrowIfLessThan(embeddedOrder, 1);
        }

        if (denseOutput is not null)
        {
            if (denseOutput.Length != s) throw new ArgumentException($"{name}: dense output has {denseOutput.Length} polynomials but c has {s} stages.", nameof(denseOutput));
            for (int i = 0; i < s; i++)
            {
                double atOne = denseOutput[i].Sum();
                if (Math.Abs(atOne - b[i]) > 1e-10 * Math.Max(1, Math.Abs(b[i])))
                    throw new ArgumentException($"{name}: dense weight b_{i}(1) = {Format(atOne)} differs from b[{i}] = {Format(b[i])}.", nameof(denseOutput));
            }
        }

        Name = name;
        this.c = (double[])c.Clone();
        this.a = a.Select(row => (double[])row.Clone()).ToArray();
        this.b = (double[])b.Clone();
        this.bError = bError is null ? [] : (double[])bError.Clone();
        dense = denseOutput?.Select(p => (double[])p.Clone()).ToArray();
        Order = order;
        EmbeddedOrder = embeddedOrder;
        IsFsal = s >= 2 && c[s - 1] == 1 && b[s - 1] == 0 && a[s - 1].AsSpan().SequenceEqual(b.AsSpan(0, s - 1));
    }

    /// <summary>The display name, e.g. "Dormand–Prince 5(4)".</summary>
    public string Name { get; }

    /// <summary>The number of stages s (function evaluations per step, one fewer when <see cref="IsFsal"/>).</summary>
    public int Stages => c.Length;

    /// <summary>The nodes c_i.</summary>
    public ReadOnlySpan<double> C => c;

    /// <summary>The weights b_i of the propagated solution.</summary>
    public ReadOnlySpan<double> B => b;

    /// <summary>The error weights b_i − b̂_i; empty for a method without an embedded solution.</summary>
    public ReadOnlySpan<double> BError => bError;

    /// <summary>Row <paramref name="stage"/> of A: the <paramref name="stage"/> coefficients A_i0 … A_i,i−1.</summary>
    /// <param name="stage">The stage index i, from 0 to <see cref="Stages"/> − 1.</param>
    /// <returns>The row (empty for stage 0).</returns>
    public ReadOnlySpan<double> ARow(int stage) => a[stage];

    /// <summary>The order p of the propagated solution.</summary>
    public int Order { get; }

    /// <summary>The order q of the embedded solution; 0 for a fixed-step method.</summary>
    public int EmbeddedOrder { get; }

    /// <summary>Whether the method carries an error estimate (an embedded pair), so it can adapt its step.</summary>
    public bool HasErrorEstimate => bError.Length > 0;

    /// <summary>Whether the last stage is f(t1, y1) ("first same as last"): it is reused as the next step's first stage.</summary>
    public bool IsFsal { get; }

    /// <summary>
    /// How far the stability region reaches along the negative real axis: |R(−x)| ≤ 1 for 0 ≤ x ≤ this boundary, with
    /// R(z) = 1 + Σ_k bᵀA^{k−1}𝟙·z^k the method's stability polynomial (about 3.3 for Dormand–Prince 5(4), 2.785 for
    /// the classic RK4). A step size held near boundary/|λ| by the controller is the mark of a stiff problem.
    /// </summary>
    public double RealStabilityBoundary => realStabilityBoundary ??= ComputeRealStabilityBoundary();

    private double? realStabilityBoundary;

    private double ComputeRealStabilityBoundary()
    {
        int s = Stages;
        var coefficients = new double[s + 1];
        coefficients[0] = 1;
        double[] v = [.. Enumerable.Repeat(1.0, s)];
        for (int k = 1; k <= s; k++)
        {
            double bv = 0;
            for (int i = 0; i < s; i++) bv += b[i] * v[i];
            coefficients[k] = bv;
            var next = new double[s];
            for (int i = 0; i < s; i++)
            {
                for (int j = 0; j < i; j++) next[i] += a[i][j] * v[j];
            }
            v = next;
        }
        const double step = 1e-3;
        for (double x = step; x < 1000; x += step)
        {
            double r = 0;
            for (int k = s; k >= 0; k--) r = r * -x + coefficients[k];
            if (Math.Abs(r) > 1 + 1e-12) return x - step;
        }
        return double.PositiveInfinity;
    }

    /// <summary>Whether the method has its own continuous extension (otherwise dense output is cubic Hermite).</summary>
    public bool HasDenseOutput => dense is not null;

    /// <summary>The exponent denominator k = min(p, q) + 1 of the step-size controller (and of the initial-step heuristic).</summary>
    public int ControllerOrder => HasErrorEstimate ? Math.Min(Order, EmbeddedOrder) + 1 : Order + 1;

    /// <summary>Writes the dense-output weights b_i(θ) for every stage.</summary>
    /// <param name="theta">The fraction θ of the step, usually in [0, 1].</param>
    /// <param name="weights">The destination, one weight per stage.</param>
    /// <exception cref="InvalidOperationException">The method has no own continuous extension.</exception>
    public void DenseWeights(double theta, Span<double> weights)
    {
        if (dense is null) throw new InvalidOperationException($"{Name} has no continuous extension of its own; solves use cubic Hermite interpolation.");
        for (int i = 0; i < dense.Length; i++)
        {
            double[] p = dense[i];
            double acc = 0;
            for (int m = p.Length - 1; m >= 0; m--) acc = (acc + p[m]) * theta;
            weights[i] = acc;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
