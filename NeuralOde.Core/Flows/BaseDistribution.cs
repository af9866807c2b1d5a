using System.Numerics;
using NeuralOde.AutoDiff;

namespace NeuralOde.Core.Flows;

/// <summary>An isotropic Gaussian N(0, σ²·I) in D dimensions: a CNF's base distribution.</summary>
/// <remarks>
/// log N(z; 0, σ²I) = −‖z‖² / (2σ²) − (D/2)·log(2πσ²). The standard normal (σ² = 1) is FFJORD's base;
/// torchdiffeq's CNF example (examples/cnf.py) uses σ² = 0.1.
/// </remarks>
public sealed class BaseDistribution
{
    private BaseDistribution(int dimension, double variance)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (!(variance > 0) || !double.IsFinite(variance))
            throw new ArgumentOutOfRangeException(nameof(variance), variance, "The variance must be positive and finite.");
        Dimension = dimension;
        Variance = variance;
    }

    /// <summary>The dimension D.</summary>
    public int Dimension { get; }

    /// <summary>The variance σ² of each coordinate.</summary>
    public double Variance { get; }

    /// <summary>N(0, I) in <paramref name="dimension"/> dimensions.</summary>
    /// <param name="dimension">D.</param>
    /// <returns>The distribution.</returns>
    /// <exception cref="ArgumentOutOfRangeException">D is not positive.</exception>
    public static BaseDistribution StandardNormal(int dimension) => new(dimension, 1.0);

    /// <summary>N(0, σ²·I) in <paramref name="dimension"/> dimensions.</summary>
    /// <param name="dimension">D.</param>
    /// <param name="variance">σ², positive.</param>
    /// <returns>The distribution.</returns>
    /// <exception cref="ArgumentOutOfRangeException">D or σ² is not positive.</exception>
    public static BaseDistribution IsotropicGaussian(int dimension, double variance) => new(dimension, variance);

    /// <summary>The log-density of each row of z, recorded on the tape.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="z">B × D points.</param>
    /// <returns>B × 1 log-densities.</returns>
    public Var<T> LogDensity<T>(Var<T> z)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Ops.AddScalar(Ops.Scale(Ops.RowDot(z, z), T.CreateTruncating(-0.5 / Variance)), T.CreateTruncating(LogNormaliser));

    /// <summary>The log-density of one point.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="z">D coordinates.</param>
    /// <returns>log p(z).</returns>
    public double LogDensity<T>(ReadOnlySpan<T> z)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sq = 0;
        foreach (T v in z) sq += double.CreateTruncating(v) * double.CreateTruncating(v);
        return -0.5 * sq / Variance + LogNormaliser;
    }

    /// <summary>Draws n points, n × D row-major, from <paramref name="seed"/>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="n">How many points.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The points.</returns>
    public T[] Sample<T>(int n, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        var result = new T[n * Dimension];
        Data.SeededNormal.Fill(new Random(seed), result.AsSpan());
        T scale = T.CreateTruncating(Math.Sqrt(Variance));
        for (int i = 0; i < result.Length; i++) result[i] *= scale;
        return result;
    }

    private double LogNormaliser => -0.5 * Dimension * Math.Log(2 * Math.PI * Variance);

    /// <inheritdoc/>
    public override string ToString() => $"N(0, {Variance}·I) in {Dimension} dimensions";
}
