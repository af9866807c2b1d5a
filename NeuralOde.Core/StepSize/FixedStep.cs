using System.Globalization;

namespace NeuralOde.Core.StepSize;

/// <summary>A constant step size; the last step is clipped so the solve ends exactly at the end time.</summary>
public sealed class FixedStep : IStepSizeController
{
    /// <summary>Creates a fixed-step controller.</summary>
    /// <param name="stepSize">The step size, positive (its sign follows the direction of the solve).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stepSize"/> is not positive and finite.</exception>
    public FixedStep(double stepSize)
    {
        if (!(stepSize > 0) || !double.IsFinite(stepSize))
            throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, $"The step size must be positive and finite, got {stepSize.ToString("R", CultureInfo.InvariantCulture)}.");
        StepSize = stepSize;
    }

    /// <summary>The magnitude of every step but possibly the last.</summary>
    public double StepSize { get; }

    /// <inheritdoc/>
    public bool IsAdaptive => false;
}
