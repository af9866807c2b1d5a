using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.Core.Dynamics;

/// <summary>Neural dynamics dy/dt = mlp(y, t) for a batch of states, one per row of a B × D state.</summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>
/// <see cref="Evaluate"/> and <see cref="Vjp"/> run on a private tape that is reset on every call, so after the first
/// call neither allocates. The instance is not thread-safe (one private tape).
/// </remarks>
public sealed class MlpDynamics<T> : IDifferentiableDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tape<T> tape = new(1 << 16);
    private readonly T[] parameterGradient;

    /// <summary>Wraps <paramref name="network"/> for a batch of <paramref name="batchSize"/> states.</summary>
    /// <param name="network">The network; its input and output widths must agree.</param>
    /// <param name="batchSize">How many states the solver's flat state holds.</param>
    /// <exception cref="ArgumentException">The network's input and output widths differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public MlpDynamics(Mlp<T> network, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (network.Inputs != network.Outputs)
            throw new ArgumentException($"Dynamics need as many outputs as inputs; the network maps {network.Inputs} to {network.Outputs}.", nameof(network));
        Network = network;
        BatchSize = batchSize;
        StateShape = new Shape(batchSize, network.Inputs);
        parameterGradient = new T[network.Parameters.Length];
    }

    /// <summary>The network.</summary>
    public Mlp<T> Network { get; }

    /// <summary>The number of states in the batch.</summary>
    public int BatchSize { get; }

    /// <summary>The state's shape, B × D.</summary>
    public Shape StateShape { get; }

    /// <inheritdoc/>
    public int Dimension => StateShape.Length;

    /// <inheritdoc/>
    public ParameterSet<T> Parameters => Network.Parameters;

    /// <inheritdoc/>
    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        tape.Reset();
        Network.Forward(tape, tape.Constant(y, StateShape), T.CreateTruncating(t)).Value.CopyTo(dydt);
    }

    /// <inheritdoc/>
    public void Vjp(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> cotangent, Span<T> gradY, Span<T> gradTheta) =>
        EvaluateAndVjp(t, y, cotangent, default, gradY, gradTheta);

    /// <inheritdoc/>
    /// <remarks>One forward pass: f's value is read off the tape the VJP is taken on (<paramref name="dydt"/> may be empty to skip it).</remarks>
    public void EvaluateAndVjp(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> cotangent, Span<T> dydt, Span<T> gradY, Span<T> gradTheta)
    {
        tape.Reset();
        var x = tape.Variable(y, StateShape);
        var f = Network.Forward(tape, x, T.CreateTruncating(t));
        if (dydt.Length != 0) f.Value.CopyTo(dydt);
        Array.Clear(parameterGradient);
        tape.Backward(f, cotangent, GradientSink<T>.Into(Network.Parameters, parameterGradient));
        x.Gradient.CopyTo(gradY);
        parameterGradient.CopyTo(gradTheta);
    }

    /// <inheritdoc/>
    public Var<T> Record(Tape<T> tape, double t, Var<T> y) => Network.Forward(tape, y, T.CreateTruncating(t));
}
