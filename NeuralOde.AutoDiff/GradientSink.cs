using System.Numerics;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.AutoDiff;

/// <summary>Says where a reverse sweep accumulates parameter gradients.</summary>
/// <remarks>
/// By default (<see cref="ParameterGradients"/>) every parameter's gradient is added into its
/// <see cref="ParameterSet{T}"/>'s own gradient vector. <see cref="Into"/> redirects one set's gradients into a
/// caller's buffer instead (the other sets still use their own): a vector–Jacobian product with respect to θ, for
/// example the a_θ block of an adjoint state, is then written straight where it is needed.
/// </remarks>
public readonly struct GradientSink<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private GradientSink(ParameterSet<T>? redirected, Memory<T> destination)
    {
        Redirected = redirected;
        Destination = destination;
    }

    /// <summary>Accumulate into each parameter set's own gradients.</summary>
    public static GradientSink<T> ParameterGradients => default;

    /// <summary>Accumulate the gradients of <paramref name="set"/> into <paramref name="destination"/> instead of its own.</summary>
    /// <param name="set">The parameter set whose gradients are redirected.</param>
    /// <param name="destination">A buffer of exactly <see cref="ParameterSet{T}.Length"/> elements, laid out as the set's flat vector.</param>
    /// <returns>The sink.</returns>
    /// <exception cref="ArgumentException">The destination's length differs from the set's.</exception>
    public static GradientSink<T> Into(ParameterSet<T> set, Memory<T> destination)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (destination.Length != set.Length) ThrowHelper.LengthMismatch(nameof(destination), destination.Length, set.Length);
        return new GradientSink<T>(set, destination);
    }

    /// <summary>The set whose gradients go to <see cref="Destination"/>, or null.</summary>
    public ParameterSet<T>? Redirected { get; }

    /// <summary>Where the redirected set's gradients accumulate.</summary>
    public Memory<T> Destination { get; }
}
