using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Sensitivity;

/// <summary>
/// The adjoint's augmented vector field over the flat state [z (n), a (n), a_θ (p)]: dz/dt = f(t, z),
/// da/dt = −aᵀ∂f/∂z, da_θ/dt = −aᵀ∂f/∂θ, from one <see cref="IDifferentiableDynamics{T}.EvaluateAndVjp"/> per
/// evaluation with the cotangent −a, written straight into the derivative's blocks.
/// </summary>
/// <remarks>Allocates nothing per evaluation. Not thread-safe.</remarks>
internal sealed class AdjointDynamics<T> : IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IDifferentiableDynamics<T> f;
    private readonly int n;
    private readonly T[] negativeAdjoint;

    public AdjointDynamics(IDifferentiableDynamics<T> f)
    {
        this.f = f;
        n = f.Dimension;
        ParameterCount = f.Parameters.Length;
        negativeAdjoint = new T[n];
    }

    /// <inheritdoc/>
    public int Dimension => 2 * n + ParameterCount;

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
