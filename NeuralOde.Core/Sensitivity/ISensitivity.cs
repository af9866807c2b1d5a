namespace NeuralOde.Core.Sensitivity;

/// <summary>How the gradient of a loss flows back through an ODE solve: Backprop, Adjoint, Checkpointed, Reversible, ReversibleRungeKutta, or one of your own.</summary>
/// <remarks>
/// A solve recorded on a tape is one node; its sensitivity creates the object that runs that node's forward solve and
/// backward pass (<see cref="ISolveGradient{T}"/>): what the forward keeps and how the backward computes dL/dy0, dL/dθ
/// and dL/dt. <see cref="OdeLayer"/> validates the options, checks y0's layout, creates one gradient per solve node
/// and reuses it across iterations, and checks the gradients it returns for non-finite values, whatever the strategy.
/// </remarks>
public interface ISensitivity
{
    /// <summary>Creates the forward/backward pair for one solve node over states of <paramref name="stateShape"/> (called once per node; the pair is reused across iterations).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="stateShape">The layout of y0 (B × D for a batch).</param>
    /// <returns>The node's gradient.</returns>
    ISolveGradient<T> CreateSolveGradient<T>(AutoDiff.Shape stateShape)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>;
}
