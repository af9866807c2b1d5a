using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Sensitivity;

/// <summary>One strategy's forward and backward pass through a solve (created per solve node by <see cref="ISensitivity.CreateSolveGradient{T}"/>, reused across iterations).</summary>
/// <remarks>
/// Layout: the forward writes the state at each saved time of <see cref="SaveAt"/> (t0 included only when the SaveAt
/// includes it) as consecutive rows of n = f.Dimension elements. The backward receives the cotangent of that output
/// (same layout) and must
/// - overwrite <c>gradY0</c> (n elements) with dL/dy0,
/// - add dL/dθ into <c>gradTheta</c> (f.Parameters.Length elements; never f.Parameters' own gradients),
/// - overwrite <c>gradTimes</c> (one element per entry of <see cref="SaveAt.AllTimes"/>, or empty when not wanted) with dL/dt_i, where
///   dL/dt_last = ⟨∂L/∂y(t_last), f(t_last, y(t_last))⟩ and dL/dt0 = −⟨a(t0), f(t0, y0)⟩ (a = the adjoint state at t0).
/// </remarks>
public interface ISolveGradient<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Runs the forward solve and keeps what the backward pass needs.</summary>
    /// <param name="f">The dynamics.</param>
    /// <param name="y0">The initial state, f.Dimension elements (validated by the caller).</param>
    /// <param name="saveAt">The times; their states are written to <paramref name="output"/>. Valid for this forward and its backward pass: a solve over a learnable time span reuses one selection with new times for the node's later forwards, so do not key a cache on its identity.</param>
    /// <param name="options">The solve's options (validated by the caller).</param>
    /// <param name="output">The saved states, one row of f.Dimension elements per saved time.</param>
    /// <returns>The forward solve's statistics.</returns>
    SolveStats Forward(IDifferentiableDynamics<T> f, ReadOnlySpan<T> y0, SaveAt saveAt, SolveOptions options, Span<T> output);

    /// <summary>Runs the backward pass of the last forward.</summary>
    /// <param name="outputCotangent">dL/d(output), in the layout of the forward's output.</param>
    /// <param name="gradY0">Overwritten with dL/dy0.</param>
    /// <param name="gradTheta">dL/dθ is added into it (f.Parameters.Length elements).</param>
    /// <param name="gradTimes">Overwritten with dL/dt_i per entry of <see cref="SaveAt.AllTimes"/>, or empty when not wanted.</param>
    /// <returns>What the backward pass cost.</returns>
    GradientStats Backward(ReadOnlySpan<T> outputCotangent, Span<T> gradY0, Span<T> gradTheta, Span<double> gradTimes);
}

/// <summary>What a backward pass through a solve cost.</summary>
/// <param name="FunctionEvaluations">Evaluations of f made by the backward pass: NFE-B (an adjoint's augmented evaluations, recomputed or reconstructing stages; 0 for Backprop). See <see cref="OdeSolveNode{T}.BackwardEvaluations"/>.</param>
/// <param name="VectorJacobianProducts">Vector–Jacobian products of f taken.</param>
/// <param name="RecomputedSteps">Steps recomputed from checkpoints (Checkpointed) or reconstructed (Reversible).</param>
/// <param name="Steps">Accepted steps of the backward solve (Adjoint) or of the forward replayed backwards.</param>
public readonly record struct GradientStats(long FunctionEvaluations, long VectorJacobianProducts, int RecomputedSteps, int Steps);
