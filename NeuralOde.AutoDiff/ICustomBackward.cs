using System.Numerics;

namespace NeuralOde.AutoDiff;

/// <summary>The backward of a node that is a whole computation of its own (e.g. an ODE solve), not a single op.</summary>
/// <remarks>
/// The implementation reads the node's output gradient and adds (never assigns) into its inputs' gradients and, for
/// parameters it uses, into <c>tape.ParameterGradients(set)</c>, which honours the sweep's <see cref="GradientSink{T}"/>.
/// </remarks>
internal interface ICustomBackward<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    void Backward(Tape<T> tape, int index);
}
