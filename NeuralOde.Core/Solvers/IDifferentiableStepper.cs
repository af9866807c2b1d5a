using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// A stepper that pulls a cotangent back through one of its steps: what <see cref="Sensitivity.Backprop"/> and
/// <see cref="Sensitivity.Checkpointed"/> need to give exact gradients of the discrete solve through a method written
/// outside the library.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>
/// <para>
/// The step y1 = Φ(t, h, y0; θ) must be a deterministic function of its input and start state (the same input, y0
/// and dynamics give the same y1 bit for bit), so the gradient can recompute whatever the vector–Jacobian product
/// needs from y0 instead of the stepper storing it. An explicit method pulls the cotangent back through its stages
/// with <see cref="IDifferentiableDynamics{T}.Vjp"/>; an implicit one solves its transposed stage equations (the
/// implicit function theorem), never differentiating its iterations.
/// </para>
/// <para>
/// Under these strategies the solve lands on every saved time, so each output is a step's end and the gradient needs
/// no transpose of the stepper's interpolation.
/// </para>
/// </remarks>
public interface IDifferentiableStepper<T> : IStepper<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Adds (∂y1/∂y0)ᵀ·ȳ1 to <paramref name="y0Bar"/> and (∂y1/∂θ)ᵀ·ȳ1 to <paramref name="thetaBar"/> for the step from <paramref name="y0"/>.</summary>
    /// <param name="f">The dynamics the step was taken with.</param>
    /// <param name="input">The step's start time, signed size and stage-time convention, as the forward took it.</param>
    /// <param name="y0">The step's start state.</param>
    /// <param name="y1Bar">The cotangent of the step's end state.</param>
    /// <param name="y0Bar">Accumulates the cotangent of the start state.</param>
    /// <param name="thetaBar">Accumulates the cotangent of f's parameters (length f.Parameters.Length).</param>
    /// <returns>The evaluations of f (each one with its VJP) the pull-back made.</returns>
    int StepVjp(IDifferentiableDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, ReadOnlySpan<T> y1Bar, Span<T> y0Bar, Span<T> thetaBar);
}
