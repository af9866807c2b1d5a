using System.Numerics;

namespace NeuralOde.AutoDiff.Nn;

/// <summary>FFJORD's time-conditioned layer: y = (x·Wᵀ + b) ⊙ sigmoid(t·w_g + b_g) + t·w_b.</summary>
/// <remarks>
/// Grathwohl et al. 2019 (FFJORD), <c>ConcatSquashLinear</c>: a linear map of x whose outputs are gated by a sigmoid
/// of an affine function of t and shifted by a bias-free linear function of t. Tensor names follow FFJORD:
/// <c>{name}._layer</c>, <c>{name}._hyper_gate</c>, <c>{name}._hyper_bias</c>. The gate and shift depend on t alone,
/// so they are two 1 × out rows broadcast over the batch, and a tangent passes through as ẏ = (ẋ·Wᵀ) ⊙ gate.
/// </remarks>
public sealed class ConcatSquashLinear<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Linear<T> layer;
    private readonly Linear<T> hyperGate;
    private readonly Linear<T> hyperBias;

    /// <summary>Adds the layer's tensors to <paramref name="parameters"/> and initialises them as PyTorch's Linear.</summary>
    /// <param name="parameters">The model's parameter set.</param>
    /// <param name="name">The prefix of the tensor names.</param>
    /// <param name="inputs">The input width.</param>
    /// <param name="outputs">The output width.</param>
    /// <param name="random">The seeded stream the initial values are drawn from.</param>
    public ConcatSquashLinear(ParameterSet<T> parameters, string name, int inputs, int outputs, Random random)
    {
        layer = new Linear<T>(parameters, $"{name}._layer", inputs, outputs, random);
        hyperBias = new Linear<T>(parameters, $"{name}._hyper_bias", 1, outputs, random, bias: false);
        hyperGate = new Linear<T>(parameters, $"{name}._hyper_gate", 1, outputs, random);
    }

    /// <summary>The input width.</summary>
    public int Inputs => layer.Inputs;

    /// <summary>The output width.</summary>
    public int Outputs => layer.Outputs;

    /// <summary>Records the layer's output at time t (before any activation).</summary>
    /// <param name="tape">The tape.</param>
    /// <param name="x">The input, B × in.</param>
    /// <param name="t">The time.</param>
    /// <returns>The output, B × out.</returns>
    public Var<T> Forward(Tape<T> tape, Var<T> x, T t)
    {
        var (gate, shift) = Hyper(tape, t);
        return Ops.AddRow(Ops.MultiplyRow(layer.Forward(tape, x), gate), shift);
    }

    /// <summary>Records the output and its tangents: ẏ = (ẋ·Wᵀ) ⊙ gate, for K stacked tangents.</summary>
    /// <param name="tape">The tape.</param>
    /// <param name="x">The input, B × in.</param>
    /// <param name="xDot">K tangents stacked by rows, (K·B) × in.</param>
    /// <param name="t">The time.</param>
    /// <returns>The output and its tangents.</returns>
    public Dual<T> Forward(Tape<T> tape, Var<T> x, Var<T> xDot, T t)
    {
        var (gate, shift) = Hyper(tape, t);
        var y = Ops.AddRow(Ops.MultiplyRow(layer.Forward(tape, x), gate), shift);
        var yDot = Ops.MultiplyRow(Ops.Linear(xDot, tape.Parameter(layer.Weight), null), gate);
        return new Dual<T>(y, yDot);
    }

    private (Var<T> Gate, Var<T> Shift) Hyper(Tape<T> tape, T t)
    {
        ArgumentNullException.ThrowIfNull(tape);
        var time = tape.Full(Shape.Scalar, t);
        return (hyperGate.Forward(tape, time, Activation.Sigmoid), hyperBias.Forward(tape, time));
    }
}
