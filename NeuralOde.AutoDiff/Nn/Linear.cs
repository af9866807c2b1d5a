using System.Numerics;

namespace NeuralOde.AutoDiff.Nn;

/// <summary>A dense layer y = σ(x·Wᵀ + b), with W stored [out, in] as in PyTorch.</summary>
/// <remarks>
/// Initialised as PyTorch's <c>nn.Linear</c>: W and b uniform in ±1/√in (kaiming-uniform with a = √5 reduces to
/// that bound), drawn from the caller's seeded stream, W first, row by row.
/// </remarks>
public sealed class Linear<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Adds the layer's tensors, <c>{name}.weight</c> and <c>{name}.bias</c>, to <paramref name="parameters"/> and initialises them.</summary>
    /// <param name="parameters">The model's parameter set.</param>
    /// <param name="name">The prefix of the tensor names, e.g. <c>net.0</c>.</param>
    /// <param name="inputs">The input width.</param>
    /// <param name="outputs">The output width.</param>
    /// <param name="random">The seeded stream the initial values are drawn from.</param>
    /// <param name="bias">Whether the layer has a bias.</param>
    /// <exception cref="ArgumentOutOfRangeException">A width is not positive.</exception>
    public Linear(ParameterSet<T> parameters, string name, int inputs, int outputs, Random random, bool bias = true)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputs);
        Inputs = inputs;
        Outputs = outputs;
        Weight = parameters.Add($"{name}.weight", new Shape(outputs, inputs));
        Bias = bias ? parameters.Add($"{name}.bias", new Shape(1, outputs)) : null;
        double bound = 1.0 / Math.Sqrt(inputs);
        Fill(parameters, Weight, random, bound);
        if (Bias is not null) Fill(parameters, Bias, random, bound);
    }

    /// <summary>The input width.</summary>
    public int Inputs { get; }

    /// <summary>The output width.</summary>
    public int Outputs { get; }

    /// <summary>The weight, out × in.</summary>
    public Parameter<T> Weight { get; }

    /// <summary>The bias, 1 × out, or null.</summary>
    public Parameter<T>? Bias { get; }

    /// <summary>Records σ(x·Wᵀ + b) as one fused node.</summary>
    /// <param name="tape">The tape.</param>
    /// <param name="x">The input, B × in.</param>
    /// <param name="activation">The activation.</param>
    /// <returns>The output, B × out.</returns>
    public Var<T> Forward(Tape<T> tape, Var<T> x, Activation activation = Activation.Identity)
    {
        ArgumentNullException.ThrowIfNull(tape);
        var (weight, bias) = RecordParameters(tape);
        return Ops.Linear(x, weight, bias, activation);
    }

    /// <summary>The weight and bias (null without one) as parameter leaves of <paramref name="tape"/>.</summary>
    internal (Var<T> Weight, Var<T>? Bias) RecordParameters(Tape<T> tape) =>
        (tape.Parameter(Weight), Bias is null ? null : tape.Parameter(Bias));

    /// <summary>Records the output and its tangent: ẏ = σ'(x·Wᵀ + b) ⊙ (ẋ·Wᵀ), for K stacked tangents.</summary>
    /// <param name="tape">The tape.</param>
    /// <param name="x">The input, B × in.</param>
    /// <param name="xDot">K tangents of the input stacked by rows, (K·B) × in.</param>
    /// <param name="activation">The activation.</param>
    /// <returns>The output and its tangents.</returns>
    public Dual<T> Forward(Tape<T> tape, Var<T> x, Var<T> xDot, Activation activation = Activation.Identity)
    {
        var y = Forward(tape, x, activation);
        var uDot = Ops.Linear(xDot, tape.Parameter(Weight), null);
        return new Dual<T>(y, ApplyActivationTangent(y, uDot, activation));
    }

    /// <summary>ẏ = σ'(y) ⊙ u̇ for K stacked tangents u̇ (identity: u̇ itself).</summary>
    internal static Var<T> ApplyActivationTangent(Var<T> y, Var<T> uDot, Activation activation) =>
        activation == Activation.Identity ? uDot : Ops.MultiplyTiled(uDot, Ops.ActivationDerivative(y, activation));

    internal static void Fill(ParameterSet<T> parameters, Parameter<T> p, Random random, double bound)
    {
        var values = parameters.ValuesWhileBuilding(p);
        for (int i = 0; i < values.Length; i++) values[i] = T.CreateTruncating((random.NextDouble() * 2 - 1) * bound);
    }
}
