using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.Core.Flows;

/// <summary>The distribution of a Hutchinson probe ε (both have E[εεᵀ] = I).</summary>
public enum ProbeNoise
{
    /// <summary>Independent ±1 entries with equal probability (the lower-variance choice; FFJORD's default).</summary>
    Rademacher,

    /// <summary>Independent standard normal entries.</summary>
    Gaussian,
}

/// <summary>How a CNF computes the divergence tr(∂f/∂z) of its velocity field.</summary>
/// <remarks>
/// Both estimators push tangents through the network on the tape (forward mode as ordinary ops), so the divergence is
/// differentiable with respect to θ and z, and the same tangents give the Jacobian Frobenius regulariser for free.
/// </remarks>
public abstract class Divergence
{
    private protected Divergence()
    {
    }

    /// <summary>The exact trace from D tangents (the unit vectors): cost D Jacobian–vector products per evaluation.</summary>
    public static ExactDivergence Exact { get; } = new();

    /// <summary>The number of tangent directions per point.</summary>
    /// <param name="dimension">The point dimension D.</param>
    /// <returns>K.</returns>
    internal abstract int Tangents(int dimension);

    /// <summary>The noise values a solve needs for a batch of <paramref name="batch"/> points (zero for the exact trace).</summary>
    internal int NoiseLength(int batch, int dimension) => this is ExactDivergence ? 0 : Tangents(dimension) * batch * dimension;

    /// <summary>Records the divergence (B × 1) and Σ‖J v‖² averaged as the estimator averages (B × 1).</summary>
    /// <param name="fj">f and J·v for the tangents v.</param>
    /// <param name="tangents">The tangents v, (K·B) × D.</param>
    /// <param name="batch">B.</param>
    /// <param name="dimension">D.</param>
    /// <param name="needFrobenius">Whether the Jacobian norm is needed (otherwise it is not recorded).</param>
    internal abstract (Var<T> Divergence, Var<T> JacobianNormSquared) Record<T>(Dual<T> fj, Var<T> tangents, int batch, int dimension, bool needFrobenius)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Sums (or averages) the K row blocks of a (K·B) × 1 value: B × 1.</summary>
    private protected static Var<T> BlockSum<T>(Var<T> stacked, int blocks, int batch, bool mean)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (blocks == 1) return stacked;
        var sum = Ops.SliceRows(stacked, 0, batch);
        for (int k = 1; k < blocks; k++) sum = Ops.Add(sum, Ops.SliceRows(stacked, k * batch, batch));
        return mean ? Ops.Scale(sum, T.One / T.CreateTruncating(blocks)) : sum;
    }
}

/// <summary>The exact divergence Σ_k (J e_k)_k from D tangents stacked by rows.</summary>
/// <remarks>In exact mode the Frobenius regulariser is exact too: ‖J‖²_F = Σ_k ‖J e_k‖².</remarks>
public sealed class ExactDivergence : Divergence
{
    internal ExactDivergence()
    {
    }

    internal override int Tangents(int dimension) => dimension;

    internal override (Var<T> Divergence, Var<T> JacobianNormSquared) Record<T>(Dual<T> fj, Var<T> tangents, int batch, int dimension, bool needFrobenius)
    {
        var j = fj.Tangent;
        Var<T> trace = Ops.SliceColumns(Ops.SliceRows(j, 0, batch), 0, 1);
        for (int k = 1; k < dimension; k++) trace = Ops.Add(trace, Ops.SliceColumns(Ops.SliceRows(j, k * batch, batch), k, 1));
        var frobenius = needFrobenius ? BlockSum(Ops.RowDot(j, j), dimension, batch, mean: false) : default;
        return (trace, frobenius);
    }

    /// <summary>Writes the (D·B) × D tangents: block k holds e_k for every point.</summary>
    internal static void UnitTangents<T>(Span<T> destination, int batch, int dimension)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        destination.Clear();
        for (int k = 0; k < dimension; k++)
        {
            for (int b = 0; b < batch; b++) destination[(k * batch + b) * dimension + k] = T.One;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => "exact trace";
}

/// <summary>Hutchinson's estimator εᵀ(∂f/∂z)ε, unbiased for the trace when E[εεᵀ] = I, averaged over <see cref="Probes"/> probes.</summary>
/// <remarks>
/// The probes are fixed for a whole solve (forward and backward) and drawn from an explicit seed passed to each call
/// (Grathwohl et al. 2019, FFJORD, §3.1); nothing is kept between calls. One tangent per probe per evaluation.
/// </remarks>
public sealed class HutchinsonDivergence : Divergence
{
    /// <summary>An estimator with the given noise and number of probes.</summary>
    /// <param name="noise">The probe distribution.</param>
    /// <param name="probes">How many probes are averaged (at least 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">probes is not positive, or the noise kind is unknown.</exception>
    public HutchinsonDivergence(ProbeNoise noise = ProbeNoise.Rademacher, int probes = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(probes);
        if (!Enum.IsDefined(noise)) throw new ArgumentOutOfRangeException(nameof(noise), noise, "Unknown probe noise.");
        Noise = noise;
        Probes = probes;
    }

    /// <summary>The probe distribution.</summary>
    public ProbeNoise Noise { get; }

    /// <summary>How many probes are averaged.</summary>
    public int Probes { get; }

    internal override int Tangents(int dimension) => Probes;

    /// <summary>Records mean_p ε_pᵀ J ε_p (B × 1) and mean_p ‖J ε_p‖² (B × 1).</summary>
    internal override (Var<T> Divergence, Var<T> JacobianNormSquared) Record<T>(Dual<T> fj, Var<T> tangents, int batch, int dimension, bool needFrobenius)
    {
        var j = fj.Tangent;
        var estimate = BlockSum(Ops.RowDot(j, tangents), Probes, batch, mean: true);
        var frobenius = needFrobenius ? BlockSum(Ops.RowDot(j, j), Probes, batch, mean: true) : default;
        return (estimate, frobenius);
    }

    /// <summary>Fills <paramref name="destination"/> with probe values drawn from <paramref name="seed"/>.</summary>
    /// <param name="noise">The distribution.</param>
    /// <param name="seed">The seed; the same seed gives the same probes.</param>
    /// <param name="destination">The probes, (probes·B) × D row-major.</param>
    /// <typeparam name="T">The element type.</typeparam>
    public static void Draw<T>(ProbeNoise noise, int seed, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        if (noise == ProbeNoise.Rademacher)
        {
            for (int i = 0; i < destination.Length; i++) destination[i] = random.Next(2) == 0 ? -T.One : T.One;
        }
        else
        {
            Data.SeededNormal.Fill(random, destination);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"Hutchinson ({Noise}, {Probes} probe{(Probes == 1 ? "" : "s")})";
}
