using System.Numerics;
using NeuralOde.Core.Solvers;

namespace NeuralOde.Core.Sensitivity;

/// <summary>
/// The continuous adjoint: gradients through a solve from a second solve, backwards in time, of the augmented state
/// [z, a, a_θ] with dz/dt = f, da/dt = −aᵀ∂f/∂z and da_θ/dt = −aᵀ∂f/∂θ, started from the last observation and
/// jumping (z reset to the forward state, the output's cotangent added to a) at every observation time.
/// </summary>
/// <remarks>
/// <para>
/// Memory is O(1) in the number of steps: the forward keeps only the saved states (and the initial state), never the
/// steps. The price is that the gradient is <b>exact only to the solver tolerance</b>: it is the gradient of the exact
/// solution, approximated by a second numerical solve (z recomputed backwards, a integrated), not the exact
/// gradient of the discrete forward solve (use Backprop or Checkpointed for that).
/// </para>
/// <para>
/// Each evaluation of the augmented dynamics is one f evaluation plus one vector–Jacobian product
/// (<see cref="Dynamics.IDifferentiableDynamics{T}.EvaluateAndVjp"/>), and that is what the backward pass counts as
/// one function evaluation (NFE-B), as torchdiffeq does.
/// </para>
/// </remarks>
public sealed class Adjoint : ISensitivity
{
    /// <summary>The method of the backward solve; null (the default) uses the forward's.</summary>
    public ButcherTableau? Method { get; init; }

    /// <summary>
    /// rtol of the backward solve; null (the default) uses the forward's <see cref="SolveOptions.RelativeTolerance"/> and,
    /// when given, its <see cref="SolveOptions.RelativeTolerances"/> (component i's for z_i and a_i, the scalar one for
    /// a_θ). A value here is one rtol for the whole augmented state.
    /// </summary>
    public double? RelativeTolerance { get; init; }

    /// <summary>
    /// atol of the backward solve; null (the default) uses the forward's <see cref="SolveOptions.AbsoluteTolerance"/> and,
    /// when given, its <see cref="SolveOptions.AbsoluteTolerances"/> (as for <see cref="RelativeTolerance"/>). A value
    /// here is one atol for the whole augmented state.
    /// </summary>
    public double? AbsoluteTolerance { get; init; }

    /// <summary>
    /// When true, a_θ is left out of the backward solve's error control (a seminorm, Kidger et al. 2021): usually
    /// fewer backward evaluations, with a_θ still integrated by the same steps. Default false.
    /// </summary>
    public bool Seminorm { get; init; }

    /// <summary>
    /// When true, the backward pass behaves exactly as torchdiffeq 0.2.5's <c>odeint_adjoint</c>, so its evaluation
    /// counts are comparable: one backward solve per output interval, each repeating the two-evaluation initial-step
    /// selection and stepping past its end and interpolating back; the same controller and stage-time conventions as
    /// <see cref="SolveOptions.Torchdiffeq"/>; and the norm max(norm(z), norm(a), max_p rms(a_θp)), where norm is the
    /// forward norm (its blocks kept as sub-blocks) and p runs over the parameter tensors (torchdiffeq's extra |a_t|
    /// term is zero for a time span that is not differentiated through the dynamics). <see cref="Seminorm"/> then
    /// drops the a_θ terms. Default false: one continuous backward solve whose step size carries over the jumps.
    /// </summary>
    public bool TorchdiffeqCompatible { get; init; }

    /// <summary>
    /// When true, the forward keeps its continuous solution and the backward solve integrates only [a, a_θ], reading
    /// z(t) from it instead of recomputing z backwards (SciMLSensitivity's InterpolatingAdjoint). Memory grows with the
    /// forward's steps, like Backprop's; in exchange the backward pass is stable where recomputing z is not: on stiff
    /// or strongly dissipative dynamics (a decaying mode grows when integrated backwards) and with a stiff method such
    /// as Rodas5P, whose forward steps need no vector–Jacobian product. Default false.
    /// </summary>
    public bool Interpolating { get; init; }

    /// <summary>The most steps of each backward solve; null (the default) uses the forward's <see cref="SolveOptions.MaxSteps"/>.</summary>
    public int? MaxSteps { get; init; }

    /// <summary>Creates the forward/backward pair for one solve node.</summary>
    internal ISolveGradient<T> CreateGradient<T>()
        where T : unmanaged, IFloatingPointIeee754<T> => new AdjointGradient<T>(this);

    /// <inheritdoc/>
    ISolveGradient<T> ISensitivity.CreateSolveGradient<T>(AutoDiff.Shape stateShape) => CreateGradient<T>();
}
