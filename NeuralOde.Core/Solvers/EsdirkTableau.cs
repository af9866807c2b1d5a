using System.Globalization;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// An ESDIRK method: singly diagonally implicit Runge–Kutta with an explicit first stage, stiffly accurate. Stage i ≥ 1
/// solves Y_i = y0 + h·Σ_{j&lt;i} a_ij k_j + hγ·k_i with k_i = f(t + c_i h, Y_i) by a simplified Newton iteration on
/// I − hγJ; the last stage is the solution (b is the last row of A with γ) at c = 1, so f(t + h, y1) is the next
/// step's first stage.
/// </summary>
public sealed class EsdirkTableau
{
    private const double Tolerance = 1e-12;
    private readonly double[][] a, predictor;
    private readonly double[] b, bError, c;

    /// <summary>Creates a tableau.</summary>
    /// <param name="name">The method's name.</param>
    /// <param name="gamma">The diagonal γ of stages 1 … s − 1 (stage 0 is explicit).</param>
    /// <param name="a">a_ij below the diagonal: row i has i entries (row 0 none).</param>
    /// <param name="bError">The error weights b − b̂.</param>
    /// <param name="c">The stage times: c_0 = 0, c_i = Σ_j a_ij + γ, c_{s−1} = 1.</param>
    /// <param name="order">The order of the solution.</param>
    /// <param name="embeddedOrder">The order of the embedded solution.</param>
    /// <param name="predictor">
    /// The Newton starting guesses Y_i ≈ y0 + h·Σ_{j&lt;i} α_ij k_j (row i has i entries), or null for Y_i ≈ y0 + c_i h·k_0.
    /// </param>
    /// <param name="filterError">
    /// Whether the error estimate is filtered, (I − hγJ)⁻¹·h·Σ(b − b̂)_j k_j (Shampine's remedy for an embedded method
    /// that is not L-stable, whose raw estimate grows without bound as hλ → −∞): one more linear solve a step.
    /// </param>
    /// <param name="newtonTolerance">The default κ of <see cref="Esdirk.NewtonTolerance"/> for this method.</param>
    public EsdirkTableau(string name, double gamma, double[][] a, double[] bError, double[] c, int order, int embeddedOrder, double[][]? predictor = null, bool filterError = false, double newtonTolerance = 0.03)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(bError);
        ArgumentNullException.ThrowIfNull(c);
        int s = c.Length;
        if (s < 2) throw new ArgumentException($"{name}: an ESDIRK method needs at least two stages.", nameof(c));
        if (!(gamma > 0) || !double.IsFinite(gamma)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, $"{name}: γ must be positive and finite.");
        if (c[0] != 0) throw new ArgumentException($"{name}: the first stage is explicit, so c[0] must be 0, got {Format(c[0])}.", nameof(c));
        if (c[s - 1] != 1) throw new ArgumentException($"{name}: the last stage is the solution, so c[{s - 1}] must be 1, got {Format(c[s - 1])}.", nameof(c));
        CheckLower(name, a, s, nameof(a));
        for (int i = 1; i < s; i++)
        {
            double sum = a[i].Sum() + gamma;
            if (Math.Abs(sum - c[i]) > Tolerance * Math.Max(1, Math.Abs(c[i])))
                throw new ArgumentException($"{name}: row {i} of A sums with γ to {Format(sum)} but c[{i}] = {Format(c[i])}.", nameof(a));
        }
        if (bError.Length != s) throw new ArgumentException($"{name}: b − b̂ has {bError.Length} entries but c has {s} stages.", nameof(bError));
        if (Math.Abs(bError.Sum()) > Tolerance) throw new ArgumentException($"{name}: the error weights sum to {Format(bError.Sum())}, not 0.", nameof(bError));
        if (predictor is not null) CheckLower(name, predictor, s, nameof(predictor));
        ArgumentOutOfRangeException.ThrowIfLessThan(order, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(embeddedOrder, 1);

        Name = name;
        Gamma = gamma;
        this.a = a.Select(r => (double[])r.Clone()).ToArray();
        this.bError = (double[])bError.Clone();
        this.c = (double[])c.Clone();
        this.predictor = predictor?.Select(r => (double[])r.Clone()).ToArray() ?? [];
        b = [.. a[s - 1], gamma];
        Order = order;
        EmbeddedOrder = embeddedOrder;
        FilterError = filterError;
        if (!(newtonTolerance > 0) || !double.IsFinite(newtonTolerance)) throw new ArgumentOutOfRangeException(nameof(newtonTolerance), newtonTolerance, $"{name}: κ must be positive and finite.");
        NewtonTolerance = newtonTolerance;
    }

    /// <summary>The method's name.</summary>
    public string Name { get; }

    /// <summary>The number of stages (the first explicit).</summary>
    public int Stages => c.Length;

    /// <summary>The diagonal γ.</summary>
    public double Gamma { get; }

    /// <summary>The order of the solution.</summary>
    public int Order { get; }

    /// <summary>The order of the embedded solution.</summary>
    public int EmbeddedOrder { get; }

    /// <summary>Whether the error estimate is filtered through (I − hγJ)⁻¹.</summary>
    public bool FilterError { get; }

    /// <summary>The default Newton tolerance κ of <see cref="Esdirk"/> with this method, in tolerance units.</summary>
    public double NewtonTolerance { get; }

    /// <summary>The stage times.</summary>
    public ReadOnlySpan<double> C => c;

    /// <summary>The weights b: the last row of A with γ (stiffly accurate).</summary>
    public ReadOnlySpan<double> B => b;

    /// <summary>The error weights b − b̂.</summary>
    public ReadOnlySpan<double> BError => bError;

    /// <summary>a_ij (j &lt; i) of stage i.</summary>
    public ReadOnlySpan<double> A(int stage) => a[stage];

    /// <summary>Whether the tableau gives Newton starting guesses.</summary>
    public bool HasPredictor => predictor.Length > 0;

    /// <summary>α_ij (j &lt; i) of stage i's starting guess.</summary>
    public ReadOnlySpan<double> Predictor(int stage) => predictor[stage];

    /// <inheritdoc />
    public override string ToString() => Name;

    private static void CheckLower(string name, double[][] rows, int s, string argument)
    {
        if (rows.Length != s) throw new ArgumentException($"{name}: {argument} has {rows.Length} rows but c has {s} stages.", argument);
        for (int i = 0; i < s; i++)
        {
            if (rows[i] is null || rows[i].Length != i)
                throw new ArgumentException($"{name}: row {i} of {argument} must have {i} entries, got {rows[i]?.Length ?? 0}.", argument);
            foreach (double v in rows[i])
            {
                if (!double.IsFinite(v)) throw new ArgumentException($"{name}: row {i} of {argument} holds {Format(v)}.", argument);
            }
        }
    }

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
