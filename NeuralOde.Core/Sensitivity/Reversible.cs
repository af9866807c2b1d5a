using System.Numerics;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Core.Sensitivity;

/// <summary>
/// Gradients through a <see cref="ReversibleHeun{T}"/> solve by reconstructing its states backwards: the exact gradient
/// of its own discretisation in O(1) memory in the number of steps (Kidger, Foster, Li, Lyons 2021).
/// </summary>
/// <remarks>
/// <para>
/// The forward pass keeps only the final (y, ŷ, f(t, ŷ)), y0, f(t0, y0) and the states at the saved times (these are the
/// solve's output, so memory is O(saved times × state), independent of the number of steps). The backward pass walks
/// the steps in reverse, reconstructs each (y_n, ŷ_n, f_n) from step n+1 with the algebraic inverse of the step (one
/// evaluation of f), and applies the exact vector–Jacobian product of one reversible Heun step (one VJP of f at
/// (t_{n+1}, ŷ_{n+1}) per step, plus one at t0). Cost: about one forward evaluation and one VJP per step.
/// </para>
/// <para>
/// The gradient is exact for the discretisation only as far as the reconstruction is. The reconstruction is exact in
/// exact arithmetic; in floating point the round-off of each step is propagated by the reverse recurrence, which is
/// as stable as the forward one: on y' = λy only for hλ on the imaginary segment [−i, i]. It holds to round-off for
/// oscillatory (conservative) dynamics (measured: 3e-15 on a harmonic oscillator over T = 10, h = 0.01, 1000 steps,
/// double) and for mildly dissipative ones with |Re λ|·T small (4e-16 for y' = −y over T = 5; 2e-16 for a small random
/// tanh MLP over T = 1). Off the imaginary axis the parasitic mode of the step (about −(1 + h|λ|) per step) amplifies
/// round-off by e^{|Re λ|·T} forwards and the reverse recurrence amplifies it again, so the reconstruction error grows in
/// proportion to e^{2|Re λ|·T} (measured with h = 0.01: y' = −5y over T = 5 gives 44; y' = −20y over T = 1 gives
/// 2e-2): the reconstructed states, hence the gradient, are then wrong. The forward solve is itself unstable there
/// (its parasitic mode grows like e^{|Re λ|·T}; see <see cref="ReversibleHeun{T}"/>), so the method is for problems
/// with |Re λ|·T of order one or less. Prefer Checkpointed otherwise.
/// </para>
/// <para>
/// Only the <see cref="ReversibleHeun{T}"/> solver is supported, with fixed steps: see <see cref="EnsureSupported"/>.
/// The gradient always runs ReversibleHeun rather than reading a method from <see cref="SolveOptions.Method"/>,
/// because the method is not a Butcher tableau (its state carries ŷ); an explicitly chosen tableau is refused rather
/// than silently ignored.
/// </para>
/// <para>
/// Time gradients: dL/dt_i for a saved time t_i (i ≥ 1) is ⟨∂L/∂y(t_i), f(t_i, y_i)⟩ and dL/dt0 = −⟨a(t0), f(t0, y0)⟩,
/// with a(t0) the discrete adjoint (dL/dy0 less the direct cotangent of a saved y(t0), which does not move with t0).
/// These are the continuous formulas evaluated on the discrete solution; they are not the derivative of the discrete
/// solve with its step count held fixed (which differs from them by the discretisation error, O(h²)).
/// </para>
/// </remarks>
public sealed class Reversible : ISensitivity
{
    /// <summary>Checks that <paramref name="options"/> describe a solve the reversible method can run.</summary>
    /// <param name="options">
    /// The options: <see cref="SolveOptions.StepSize"/> must be a <see cref="FixedStep"/>; <see cref="SolveOptions.Method"/>
    /// must be left unset (ReversibleHeun is always used); no StepPastEnd, StepToTimes, JumpTimes or DenseOutput.
    /// Tolerances are not used.
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The options ask for something the reversible method does not do; the message says what and why.</exception>
    public static void EnsureSupported(SolveOptions options) => ReversibleOptionChecks.EnsureHeunSupported(options);

    /// <summary>Creates the forward/backward pair for one solve node.</summary>
    internal static ReversibleGradient<T> CreateGradient<T>()
        where T : unmanaged, IFloatingPointIeee754<T> => new();

    /// <inheritdoc/>
    ISolveGradient<T> ISensitivity.CreateSolveGradient<T>(AutoDiff.Shape stateShape) => CreateGradient<T>();
}
