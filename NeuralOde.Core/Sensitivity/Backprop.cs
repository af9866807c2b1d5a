namespace NeuralOde.Core.Sensitivity;

/// <summary>Backpropagation through the solver's steps: the exact gradient of the discrete solve, memory growing with the steps.</summary>
/// <remarks>
/// The forward keeps every stage of every accepted step on a private tape (each stage's activations, nothing
/// recomputed in the backward). Accepted step sizes are treated as constants; rejected steps and the initial-step
/// probe are not differentiated. Memory per step: the stages' recorded activations (for an MLP, about
/// s·B·Σ(layer widths) elements), reported by the tape.
/// </remarks>
public sealed class Backprop : ISensitivity
{
}
