using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// Dynamics whose last <see cref="QuadratureLength"/> components are quadratures g(t, core): no derivative depends on
/// them. The Jacobian is then block lower triangular, [[J_cc, 0], [G, 0]] with G = ∂g/∂core, so I − hγJ is solved with
/// the core's factorisation alone and the tail follows explicitly, x_q = r_q + hγ·G·x_c: one product with G per solve,
/// never a Jacobian of the whole state. The interpolating adjoint's [a, a_θ] is the case this serves (a_θ has one
/// component per parameter; G·x = −∂f/∂θᵀ·x is one vector–Jacobian product).
/// </summary>
internal interface IQuadratureTail<T> : IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>q, the length of the tail.</summary>
    int QuadratureLength { get; }

    /// <summary>How many independent rows the core splits into (as <see cref="IDifferentiableDynamics{T}.IndependentRows"/>): its Jacobian's diagonal blocks.</summary>
    int CoreIndependentRows { get; }

    /// <summary>Writes G·<paramref name="coreDirection"/> = (∂g/∂core)·direction at (t, y) into <paramref name="product"/> (length q).</summary>
    void CouplingProduct(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> coreDirection, Span<T> product);
}
