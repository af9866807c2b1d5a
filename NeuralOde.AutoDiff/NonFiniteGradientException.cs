using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.AutoDiff;

/// <summary>
/// A gradient came out NaN or ±∞: thrown by a backward pass through a solve (every gradient strategy checks what it
/// produced) and by an optimizer asked to refuse such a step. It names who found it and the first non-finite component.
/// </summary>
public sealed class NonFiniteGradientException : ArithmeticException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="producer">What produced or refused the gradient: a gradient strategy ("Backprop", "Adjoint", …) or an optimizer.</param>
    /// <param name="parameterName">The parameter tensor holding the first non-finite gradient, or null when it is not a parameter's (e.g. dL/dy0, or unknown).</param>
    /// <param name="index">The element's index inside that tensor (or inside y0), or −1 when unknown.</param>
    /// <param name="value">The non-finite value (NaN when unknown).</param>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The failure that revealed it, if any (the adjoint's backward solve).</param>
    public NonFiniteGradientException(string producer, string? parameterName, int index, double value, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Producer = producer;
        ParameterName = parameterName;
        Index = index;
        Value = value;
    }

    /// <summary>Creates the exception with no details.</summary>
    public NonFiniteGradientException() : this("unknown", null, -1, double.NaN, "A gradient is not finite.") { }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public NonFiniteGradientException(string message) : this("unknown", null, -1, double.NaN, message) { }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public NonFiniteGradientException(string message, Exception innerException) : this("unknown", null, -1, double.NaN, message, innerException) { }

    /// <summary>What produced or refused the gradient: a gradient strategy's or an optimizer's type name.</summary>
    public string Producer { get; }

    /// <summary>The parameter tensor of the first non-finite gradient, or null when it is dL/dy0 or unknown.</summary>
    public string? ParameterName { get; }

    /// <summary>The first non-finite element's index inside its tensor, or −1 when unknown.</summary>
    public int Index { get; }

    /// <summary>The first non-finite value.</summary>
    public double Value { get; }

    /// <summary>Throws if <paramref name="gradients"/> (laid out as <paramref name="set"/>'s values) holds a non-finite value.</summary>
    /// <param name="set">The parameters the gradients belong to (for the name of the first bad one).</param>
    /// <param name="gradients">The gradients.</param>
    /// <param name="producer">Who produced or is about to use them.</param>
    /// <param name="context">Ends the message's first sentence, e.g. "after its backward pass".</param>
    internal static void ThrowIfNonFinite<T>(ParameterSet<T> set, ReadOnlySpan<T> gradients, string producer, string context)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = FirstNonFinite(gradients);
        if (i < 0) return;
        var (name, local) = set.Locate(i);
        double value = double.CreateTruncating(gradients[i]);
        throw new NonFiniteGradientException(producer, name, local, value,
            $"{producer} {context}: dL/dθ of parameter '{name}' is {value.ToString(CultureInfo.InvariantCulture)} at index {local} (flat index {i}); the first non-finite gradient.");
    }

    /// <summary>The index of the first non-finite element, or −1. One SIMD sum, then a scan only if it is not finite.</summary>
    /// <remarks>
    /// A sum is finite only if every term is: NaN propagates, and ±∞ gives ±∞ or NaN. A non-finite sum of finite terms
    /// (overflow) is told apart by the scan, which then finds nothing.
    /// </remarks>
    internal static int FirstNonFinite<T>(ReadOnlySpan<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (T.IsFinite(TensorPrimitives.Sum(values))) return -1;
        for (int i = 0; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i])) return i;
        }
        return -1;
    }
}
