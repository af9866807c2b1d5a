using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.Core.Flows;

/// <summary>A velocity field f(z, t) on a batch of D-dimensional points that records itself and its Jacobian–vector products on a tape.</summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>
/// A CNF needs f and J·v for the divergence; both are ordinary tape expressions, so reverse mode differentiates
/// the divergence with respect to θ and z like any other value.
/// </remarks>
public interface IVelocityField<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The dimension D of a point.</summary>
    int Dimension { get; }

    /// <summary>The parameters θ.</summary>
    ParameterSet<T> Parameters { get; }

    /// <summary>Records f(z, t).</summary>
    /// <param name="tape">The tape.</param>
    /// <param name="z">The points, B × D.</param>
    /// <param name="t">The time.</param>
    /// <returns>f, B × D.</returns>
    Var<T> Forward(Tape<T> tape, Var<T> z, T t);

    /// <summary>Records f(z, t) and (∂f/∂z)·ż for K tangents stacked by rows.</summary>
    /// <param name="tape">The tape.</param>
    /// <param name="z">The points, B × D.</param>
    /// <param name="zDot">The tangents, (K·B) × D; block k holds the direction for every point.</param>
    /// <param name="t">The time.</param>
    /// <returns>f (B × D) and J·ż ((K·B) × D).</returns>
    Dual<T> Forward(Tape<T> tape, Var<T> z, Var<T> zDot, T t);
}

/// <summary>An <see cref="Mlp{T}"/> as a velocity field: f(z, t) = mlp(z, t).</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class MlpVelocityField<T> : IVelocityField<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Wraps <paramref name="network"/>.</summary>
    /// <param name="network">A network with as many outputs as inputs.</param>
    /// <exception cref="ArgumentException">The network's input and output widths differ.</exception>
    public MlpVelocityField(Mlp<T> network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.Inputs != network.Outputs)
            throw new ArgumentException($"A velocity field needs as many outputs as inputs; the network maps {network.Inputs} to {network.Outputs}.", nameof(network));
        Network = network;
    }

    /// <summary>The network.</summary>
    public Mlp<T> Network { get; }

    /// <inheritdoc/>
    public int Dimension => Network.Inputs;

    /// <inheritdoc/>
    public ParameterSet<T> Parameters => Network.Parameters;

    /// <inheritdoc/>
    public Var<T> Forward(Tape<T> tape, Var<T> z, T t) => Network.Forward(tape, z, t);

    /// <inheritdoc/>
    public Dual<T> Forward(Tape<T> tape, Var<T> z, Var<T> zDot, T t) => Network.Forward(tape, z, zDot, t);
}
