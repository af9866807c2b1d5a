using System.Numerics;

namespace NeuralOde.AutoDiff.Nn;

/// <summary>Creates multilayer perceptrons.</summary>
public static class Mlp
{
    /// <summary>Creates an MLP with its own parameter set, initialised from <paramref name="seed"/>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="inputs">The width of x (not counting t).</param>
    /// <param name="hidden">The hidden widths, e.g. [64, 64].</param>
    /// <param name="outputs">The output width.</param>
    /// <param name="activation">The activation between layers (none after the last).</param>
    /// <param name="timeInput">How the network sees t.</param>
    /// <param name="seed">The seed of the initial values.</param>
    /// <returns>The network.</returns>
    public static Mlp<T> Create<T>(int inputs, int[] hidden, int outputs, Activation activation, TimeInput timeInput, int seed)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new(new ParameterSet<T>(), inputs, hidden, outputs, activation, timeInput, new Random(seed));
}

/// <summary>A multilayer perceptron f(x, t): dense (or ConcatSquash) layers with one activation between them.</summary>
/// <remarks>
/// Plain and concatenated-time networks name their tensors as a PyTorch <c>nn.Sequential</c> of Linear and activation
/// modules (<c>net.0</c>, <c>net.2</c>, …), so weights exported from such a PyTorch network load by name; ConcatSquash networks as FFJORD
/// (<c>layers.0._layer</c>, …). Every layer but the last is recorded as one fused Linear + activation node.
/// </remarks>
public sealed class Mlp<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Linear<T>[] dense = [];
    private readonly ConcatSquashLinear<T>[] squash = [];

    /// <summary>Builds the network's layers into <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The parameter set the tensors are added to.</param>
    /// <param name="inputs">The width of x (not counting t).</param>
    /// <param name="hidden">The hidden widths.</param>
    /// <param name="outputs">The output width.</param>
    /// <param name="activation">The activation between layers.</param>
    /// <param name="timeInput">How the network sees t.</param>
    /// <param name="random">The seeded stream of initial values.</param>
    /// <param name="prefix">The name prefix: <c>net</c> (or <c>layers</c> for ConcatSquash) unless given.</param>
    /// <exception cref="ArgumentOutOfRangeException">A width is not positive.</exception>
    public Mlp(ParameterSet<T> parameters, int inputs, int[] hidden, int outputs, Activation activation, TimeInput timeInput, Random random, string? prefix = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(hidden);
        Parameters = parameters;
        Inputs = inputs;
        Outputs = outputs;
        Activation = activation;
        TimeInput = timeInput;
        int[] widths = [inputs, .. hidden, outputs];
        foreach (int w in widths) ArgumentOutOfRangeException.ThrowIfNegativeOrZero(w, nameof(hidden));
        int layers = widths.Length - 1;
        if (timeInput == TimeInput.ConcatSquash)
        {
            squash = new ConcatSquashLinear<T>[layers];
            for (int i = 0; i < layers; i++) squash[i] = new ConcatSquashLinear<T>(parameters, $"{prefix ?? "layers"}.{i}", widths[i], widths[i + 1], random);
        }
        else
        {
            dense = new Linear<T>[layers];
            int extra = timeInput == TimeInput.Concat ? 1 : 0;
            for (int i = 0; i < layers; i++) dense[i] = new Linear<T>(parameters, $"{prefix ?? "net"}.{2 * i}", widths[i] + (i == 0 ? extra : 0), widths[i + 1], random);
        }
    }

    /// <summary>The parameter set holding the network's tensors.</summary>
    public ParameterSet<T> Parameters { get; }

    /// <summary>The width of x.</summary>
    public int Inputs { get; }

    /// <summary>The output width.</summary>
    public int Outputs { get; }

    /// <summary>The activation between layers.</summary>
    public Activation Activation { get; }

    /// <summary>How the network sees t.</summary>
    public TimeInput TimeInput { get; }

    /// <summary>Records f(x, t).</summary>
    /// <param name="tape">The tape.</param>
    /// <param name="x">The input, B × <see cref="Inputs"/>.</param>
    /// <param name="t">The time (ignored when <see cref="TimeInput"/> is None).</param>
    /// <returns>The output, B × <see cref="Outputs"/>.</returns>
    /// <remarks>
    /// Once the tape holds 16 MiB of values, a network whose first layer has at most 4 inputs (t's column counted) stops
    /// keeping that layer's output: the reverse sweep recomputes it from x, to the same bits. Backprop through a long
    /// solve then keeps half as much for a 2→64→64→2 network, at one narrow product and one activation an evaluation.
    /// </remarks>
    /// <exception cref="ArgumentException">x does not have <see cref="Inputs"/> columns.</exception>
    public Var<T> Forward(Tape<T> tape, Var<T> x, T t)
    {
        ArgumentNullException.ThrowIfNull(tape);
        CheckInput(x, nameof(x));
        if (TimeInput == TimeInput.ConcatSquash)
        {
            var h = x;
            for (int i = 0; i < squash.Length; i++)
            {
                h = squash[i].Forward(tape, h, t);
                if (i < squash.Length - 1) h = Ops.Activate(h, Activation);
            }
            return h;
        }

        var z = TimeInput == TimeInput.Concat ? Ops.ConcatColumns(x, tape.Full(new Shape(x.Shape.Rows, 1), t)) : x;
        int first = 0;
        if (dense.Length >= 2 && dense[0].Inputs <= RecomputedMaxInputs && tape.ValueBytesInUse >= RecomputeFromValueBytes)
        {
            var (w0, b0) = dense[0].RecordParameters(tape);
            var (w1, b1) = dense[1].RecordParameters(tape);
            z = Ops.LinearPairRecomputingHidden(z, w0, b0, Activation, w1, b1, dense.Length > 2 ? Activation : Activation.Identity);
            first = 2;
        }
        for (int i = first; i < dense.Length; i++) z = dense[i].Forward(tape, z, i < dense.Length - 1 ? Activation : Activation.Identity);
        return z;
    }

    /// <summary>The widest first layer (counting t's column) whose output a long recording recomputes instead of keeping.</summary>
    internal const int RecomputedMaxInputs = 4;

    /// <summary>
    /// The tape's value memory from which <see cref="Forward(Tape{T}, Var{T}, T)"/> stops keeping the first hidden layer
    /// of a narrow-input network (<see cref="RecomputedMaxInputs"/>): the reverse sweep recomputes it from x (in × hidden
    /// multiply–adds and the activation a row) rather than storing hidden values a row. Below this size a recording stays in
    /// cache and keeping is cheaper; above it, backprop through a long solve writes half as much memory (a 2→64→64→2
    /// network keeps one 64-wide layer an evaluation instead of two). The gradients are the same bits either way.
    /// </summary>
    internal const long RecomputeFromValueBytes = 16L << 20;

    /// <summary>Records f(x, t) and the Jacobian–vector products J·ẋ for K tangents stacked by rows.</summary>
    /// <param name="tape">The tape.</param>
    /// <param name="x">The input, B × <see cref="Inputs"/>.</param>
    /// <param name="xDot">K tangent directions for x, (K·B) × <see cref="Inputs"/> (t has no tangent).</param>
    /// <param name="t">The time.</param>
    /// <returns>f and J·ẋ, (K·B) × <see cref="Outputs"/>, both differentiable on the tape.</returns>
    /// <exception cref="ArgumentException">A shape does not fit.</exception>
    public Dual<T> Forward(Tape<T> tape, Var<T> x, Var<T> xDot, T t)
    {
        ArgumentNullException.ThrowIfNull(tape);
        CheckInput(x, nameof(x));
        CheckInput(xDot, nameof(xDot));
        if (xDot.Shape.Rows % Math.Max(1, x.Shape.Rows) != 0)
            ThrowHelper.ShapeMismatch(nameof(xDot), $"The tangents {xDot.Shape} must stack a whole number of copies of the input's {x.Shape.Rows} rows.");
        if (TimeInput == TimeInput.ConcatSquash)
        {
            var h = new Dual<T>(x, xDot);
            for (int i = 0; i < squash.Length; i++)
            {
                h = squash[i].Forward(tape, h.Value, h.Tangent, t);
                if (i < squash.Length - 1)
                {
                    var y = Ops.Activate(h.Value, Activation);
                    h = new Dual<T>(y, Linear<T>.ApplyActivationTangent(y, h.Tangent, Activation));
                }
            }
            return h;
        }

        var z = new Dual<T>(x, xDot);
        if (TimeInput == TimeInput.Concat)
        {
            z = new Dual<T>(
                Ops.ConcatColumns(x, tape.Full(new Shape(x.Shape.Rows, 1), t)),
                Ops.ConcatColumns(xDot, tape.Full(new Shape(xDot.Shape.Rows, 1), T.Zero)));
        }
        for (int i = 0; i < dense.Length; i++) z = dense[i].Forward(tape, z.Value, z.Tangent, i < dense.Length - 1 ? Activation : Activation.Identity);
        return z;
    }

    private void CheckInput(Var<T> x, string paramName)
    {
        if (x.Shape.Cols != Inputs) ThrowHelper.ShapeMismatch(paramName, $"The network takes {Inputs} input columns; the value is {x.Shape}.");
    }
}
