using System.Numerics;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Solvers;

namespace NeuralOde.Core.Sensitivity;

/// <summary>
/// The adjoint's augmented vector field over the flat state [z (n), a (n), a_θ (p)]: dz/dt = f(t, z),
/// da/dt = −aᵀ∂f/∂z, da_θ/dt = −aᵀ∂f/∂θ, from one <see cref="IDifferentiableDynamics{T}.EvaluateAndVjp"/> per
/// evaluation with the cotangent −a, written straight into the derivative's blocks.
/// </summary>
/// <remarks>
/// Allocates nothing per evaluation. Not thread-safe. a_θ is a quadrature of [z, a], so a stiff method for the backward
/// solve differences and factors only the 2n core (<see cref="IQuadratureTail{T}"/>); the coupling a_θ' = −∂f/∂θ(z)ᵀ·a
/// is nonlinear in z, so its product with a direction is a central difference of two VJPs.
/// </remarks>
internal sealed class AdjointDynamics<T> : IQuadratureTail<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IDifferentiableDynamics<T> f;
    private readonly int n;
    private readonly T[] negativeAdjoint, probe, unusedGradY, minus;

    public AdjointDynamics(IDifferentiableDynamics<T> f)
    {
        this.f = f;
        n = f.Dimension;
        ParameterCount = f.Parameters.Length;
        negativeAdjoint = new T[n];
        probe = new T[n];
        unusedGradY = new T[n];
        minus = new T[ParameterCount];
    }

    /// <inheritdoc/>
    public int QuadratureLength => ParameterCount;

    /// <inheritdoc/>
    /// <remarks>[z, a] is not laid out by rows (z's block, then a's), so the core is one dense 2n × 2n matrix.</remarks>
    public int CoreIndependentRows => 1;

    /// <inheritdoc/>
    /// <remarks>(g(y + εx) − g(y − εx))/(2ε), g = −∂f/∂θᵀ·a: two VJPs (counted as evaluations), exact in the a direction.</remarks>
    public void CouplingProduct(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> coreDirection, Span<T> product)
    {
        double scale = 0, size = 0;
        for (int i = 0; i < 2 * n; i++)
        {
            scale = Math.Max(scale, Math.Abs(double.CreateTruncating(y[i])));
            size = Math.Max(size, Math.Abs(double.CreateTruncating(coreDirection[i])));
        }
        if (!(size > 0))
        {
            product.Clear();
            return;
        }
        T epsilon = T.CreateTruncating(DifferenceSteps<T>.Central * Math.Max(scale, 1) / size);
        Side(t, y, coreDirection, epsilon, product);
        Side(t, y, coreDirection, -epsilon, minus);
        T inverse = T.One / (epsilon + epsilon);
        for (int i = 0; i < product.Length; i++) product[i] = (product[i] - minus[i]) * inverse;
    }

    /// <summary>g at y + ε·x into <paramref name="destination"/>.</summary>
    private void Side(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> x, T epsilon, Span<T> destination)
    {
        Evaluations++;
        for (int i = 0; i < n; i++)
        {
            probe[i] = y[i] + epsilon * x[i];
            negativeAdjoint[i] = -(y[n + i] + epsilon * x[n + i]);
        }
        f.Vjp(t, probe, negativeAdjoint, unusedGradY, destination);
    }

    /// <inheritdoc/>
    public int Dimension => 2 * n + ParameterCount;

    /// <inheritdoc/>
    /// <remarks>[z, a, a_θ]' depends on t through f alone.</remarks>
    public bool IsAutonomous => f.IsAutonomous;

    /// <summary>p, the length of a_θ.</summary>
    public int ParameterCount { get; }

    /// <summary>Evaluations so far (each one f evaluation plus one VJP).</summary>
    public long Evaluations { get; set; }

    /// <inheritdoc/>
    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        Evaluations++;
        ReadOnlySpan<T> z = y[..n];
        ReadOnlySpan<T> a = y.Slice(n, n);
        bool finite = true;
        for (int i = 0; i < n; i++)
        {
            T v = a[i];
            finite &= T.IsFinite(v);
            negativeAdjoint[i] = -v;
        }
        if (!finite)
        {
            // A trial stage blew up: hand the solver a non-finite derivative to reject (a VJP refuses a non-finite cotangent).
            dydt.Fill(T.NaN);
            return;
        }
        f.EvaluateAndVjp(t, z, negativeAdjoint, dydt[..n], dydt.Slice(n, n), dydt[(2 * n)..]);
    }
}
