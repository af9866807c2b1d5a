using System.Diagnostics.CodeAnalysis;

namespace NeuralOde.AutoDiff;

/// <summary>Throws for argument errors; kept out of line so the callers' hot paths stay small and inlineable.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ShapeMismatch(string paramName, Shape actual, Shape expected, string operation) =>
        throw new ArgumentException($"{operation}: shape {actual} does not match the expected {expected}.", paramName);

    [DoesNotReturn]
    public static void ShapeMismatch(string paramName, string message) =>
        throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    public static void LengthMismatch(string paramName, int actual, int expected) =>
        throw new ArgumentException($"Length {actual} does not match the expected {expected}.", paramName);

    [DoesNotReturn]
    public static void NonFinite(string paramName, int index, double value) =>
        throw new ArgumentException($"Element {index} is {value}; every element must be finite.", paramName);

    [DoesNotReturn]
    public static void StaleHandle(string paramName, int handleEpoch, int tapeEpoch) =>
        throw new InvalidOperationException(
            $"The value '{paramName}' was recorded before the tape was reset (handle epoch {handleEpoch}, tape epoch {tapeEpoch}); record it again after Reset().");

    [DoesNotReturn]
    public static void ForeignHandle(string paramName) =>
        throw new ArgumentException("The value belongs to a different tape (or to none); ops combine values of one tape only.", paramName);

    [DoesNotReturn]
    public static void OutOfRange(string paramName, object value, string expectation) =>
        throw new ArgumentOutOfRangeException(paramName, value, expectation);
}
