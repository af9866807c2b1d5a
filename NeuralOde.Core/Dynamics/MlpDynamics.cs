using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.Core.Dynamics;

/// <summary>Neural dynamics dy/dt = mlp(y, t) for a batch of states, one per row of a B × D state.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class MlpDynamics<T> : TapeDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Wraps <paramref name="network"/> for a batch of <paramref name="batchSize"/> states.</summary>
    /// <param name="network">The network; its input and output widths must agree.</param>
    /// <param name="batchSize">How many states the solver's flat state holds.</param>
    /// <exception cref="ArgumentException">The network's input and output widths differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public MlpDynamics(Mlp<T> network, int batchSize)
        : base(CheckNetwork(network).Parameters, Shape.Checked(batchSize, network.Inputs, nameof(batchSize)))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        Network = network;
    }

    /// <summary>The network.</summary>
    public Mlp<T> Network { get; }

    /// <summary>The number of states in the batch.</summary>
    public int BatchSize => StateShape.Rows;

    /// <inheritdoc/>
    /// <remarks>Every state of the batch is one independent row: the network maps each alone.</remarks>
    public override int IndependentRows => BatchSize;

    /// <inheritdoc/>
    /// <remarks>A network without a time input (<see cref="TimeInput.None"/>) ignores t.</remarks>
    public override bool IsAutonomous => Network.TimeInput == TimeInput.None;

    /// <inheritdoc/>
    public override Var<T> Record(Tape<T> tape, double t, Var<T> y) => Network.Forward(tape, y, T.CreateTruncating(t));

    private static Mlp<T> CheckNetwork(Mlp<T> network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.Inputs != network.Outputs)
            throw new ArgumentException($"Dynamics need as many outputs as inputs; the network maps {network.Inputs} to {network.Outputs}.", nameof(network));
        return network;
    }
}
