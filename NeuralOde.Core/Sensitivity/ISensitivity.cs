namespace NeuralOde.Core.Sensitivity;

/// <summary>How the gradient of a loss flows back through an ODE solve: Backprop, Adjoint, Checkpointed or Reversible.</summary>
/// <remarks>A solve recorded on a tape is one node; its sensitivity chooses what the forward pass keeps and how the backward pass computes dL/dy0, dL/dθ and dL/dt.</remarks>
public interface ISensitivity
{
}
