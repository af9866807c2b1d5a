using System.Numerics;
using NeuralOde.Core.DenseOutput;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Solvers;

namespace NeuralOde.Core.Sensitivity;

/// <summary>
/// The interpolating adjoint's vector field over [a (n), a_θ (p)]: da/dt = −aᵀ∂f/∂z, da_θ/dt = −aᵀ∂f/∂θ, with z(t)
/// read from the forward solve's continuous solution, one <see cref="IDifferentiableDynamics{T}.Vjp"/> per evaluation.
/// </summary>
/// <remarks>Allocates nothing per evaluation. Not thread-safe.</remarks>
/// <remarks>
/// a_θ is a quadrature (nothing depends on it), so a stiff method for the backward solve factors only the a part of
/// I − hγJ, the blocks of −∂f/∂zᵀ (block-diagonal for independent rows), and couples a_θ by one VJP per linear solve
/// (<see cref="IQuadratureTail{T}"/>), never differencing or factoring n + p unknowns.
/// </remarks>
internal sealed class InterpolatedAdjointDynamics<T> : IQuadratureTail<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IDifferentiableDynamics<T> f;
    private readonly DenseInterpolant<T> forward;
    private readonly int n;
    private readonly T[] negativeAdjoint, z, unusedGradY;

    public InterpolatedAdjointDynamics(IDifferentiableDynamics<T> f, DenseInterpolant<T> forward)
    {
        this.f = f;
        this.forward = forward;
        n = f.Dimension;
        ParameterCount = f.Parameters.Length;
        negativeAdjoint = new T[n];
        z = new T[n];
        unusedGradY = new T[n];
        CoreIndependentRows = JacobianBlocks.Count(n, f.IndependentRows);
    }

    /// <inheritdoc/>
    public int QuadratureLength => ParameterCount;

    /// <inheritdoc/>
    /// <remarks>−∂f/∂zᵀ has the blocks of ∂f/∂z: the rows of f.</remarks>
    public int CoreIndependentRows { get; }

    /// <inheritdoc/>
    /// <remarks>a_θ' = −∂f/∂θᵀ·a is linear in a: G·x = −∂f/∂θᵀ·x, one VJP at z(t) (counted as an evaluation).</remarks>
    public void CouplingProduct(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> coreDirection, Span<T> product)
    {
        Evaluations++;
        for (int i = 0; i < n; i++) negativeAdjoint[i] = -coreDirection[i];
        ReadZ(t);
        f.Vjp(t, z, negativeAdjoint, unusedGradY, product);
    }

    private void ReadZ(double t) =>
        // Stage times stay inside the interval being integrated, which the forward covered.
        forward.Evaluate(Math.Clamp(t, Math.Min(forward.StartTime, forward.EndTime), Math.Max(forward.StartTime, forward.EndTime)), z);

    /// <inheritdoc/>
    public int Dimension => n + ParameterCount;

    /// <summary>p, the length of a_θ.</summary>
    public int ParameterCount { get; }

    /// <summary>Evaluations so far (each one vector–Jacobian product).</summary>
    public long Evaluations { get; set; }

    /// <inheritdoc/>
    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        Evaluations++;
        bool finite = true;
        for (int i = 0; i < n; i++)
        {
            T v = y[i];
            finite &= T.IsFinite(v);
            negativeAdjoint[i] = -v;
        }
        if (!finite)
        {
            // A trial stage blew up: hand the solver a non-finite derivative to reject (a VJP refuses a non-finite cotangent).
            dydt.Fill(T.NaN);
            return;
        }
        ReadZ(t);
        f.Vjp(t, z, negativeAdjoint, dydt[..n], dydt[n..]);
    }
}
