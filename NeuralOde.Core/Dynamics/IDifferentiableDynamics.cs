using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.Core.Dynamics;

/// <summary>Dynamics f(t, y, θ) that can also give vector–Jacobian products and record themselves on a tape.</summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>
/// The parameters θ are one flat <see cref="ParameterSet{T}"/>, so an adjoint state a_θ, a seminorm mask, an optimizer
/// and fixture loading all address the same vector. <see cref="Vjp"/> is what the continuous adjoint calls once per
/// evaluation; <see cref="Record"/> is what backprop through a solve calls for every stage it keeps.
/// </remarks>
public interface IDifferentiableDynamics<T> : IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The parameters θ.</summary>
    ParameterSet<T> Parameters { get; }

    /// <summary>
    /// How many rows the state splits into that f maps independently: row i of f(t, y) depends on row i of y (and on t
    /// and θ) only, as for an MLP applied to each state of a batch. Then <see cref="Record"/> must also accept y holding
    /// any contiguous block of whole rows (shape rows × Dimension / IndependentRows) and return f of those rows, and
    /// every parameter it records must belong to <see cref="Parameters"/>: solvers and gradient strategies may record
    /// each block on its own tape and thread, so <see cref="Record"/> is then called on this instance from several
    /// threads at once (with different tapes) and must not change the instance's state. The default, 1, declares no
    /// such structure.
    /// </summary>
    int IndependentRows => 1;

    /// <summary>Computes gradY = cotangentᵀ·∂f/∂y and gradTheta = cotangentᵀ·∂f/∂θ at (t, y), overwriting both buffers.</summary>
    /// <param name="t">The time.</param>
    /// <param name="y">The state, of length <see cref="IDynamics{T}.Dimension"/>.</param>
    /// <param name="cotangent">The cotangent of f's output, of length <see cref="IDynamics{T}.Dimension"/>.</param>
    /// <param name="gradY">Receives the product with ∂f/∂y, of length <see cref="IDynamics{T}.Dimension"/>.</param>
    /// <param name="gradTheta">Receives the product with ∂f/∂θ, of length <see cref="ParameterSet{T}.Length"/> (never θ's own gradients).</param>
    void Vjp(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> cotangent, Span<T> gradY, Span<T> gradTheta);

    /// <summary>
    /// Writes f(t, y) into <paramref name="dydt"/> and the products of <see cref="Vjp"/> into <paramref name="gradY"/>
    /// and <paramref name="gradTheta"/>: what the continuous adjoint needs per evaluation. The default calls
    /// <see cref="IDynamics{T}.Evaluate"/> then <see cref="Vjp"/> (two forward passes); implementations that run the
    /// forward pass inside their VJP anyway should override it and return that value, so one call costs one forward.
    /// </summary>
    /// <param name="t">The time.</param>
    /// <param name="y">The state.</param>
    /// <param name="cotangent">The cotangent of f's output.</param>
    /// <param name="dydt">Receives f(t, y).</param>
    /// <param name="gradY">Receives cotangentᵀ·∂f/∂y.</param>
    /// <param name="gradTheta">Receives cotangentᵀ·∂f/∂θ.</param>
    void EvaluateAndVjp(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> cotangent, Span<T> dydt, Span<T> gradY, Span<T> gradTheta)
    {
        Evaluate(t, y, dydt);
        Vjp(t, y, cotangent, gradY, gradTheta);
    }

    /// <summary>Records f(t, y) on the caller's tape and returns its node.</summary>
    /// <param name="tape">The tape.</param>
    /// <param name="t">The time.</param>
    /// <param name="y">The state as a tape value (its shape is the dynamics' own layout, e.g. B × D).</param>
    /// <returns>f(t, y), of y's shape.</returns>
    Var<T> Record(Tape<T> tape, double t, Var<T> y);
}
