namespace NeuralOde.Core.StepSize;

/// <summary>How a solve chooses its step sizes: <see cref="FixedStep"/> or the adaptive <see cref="PiController"/>.</summary>
/// <remarks>
/// A controller is an immutable description; the per-solve state (the previous error ratio) lives in the solve. The
/// solvers know the two implementations; a third is refused at the boundary.
/// </remarks>
public interface IStepSizeController
{
    /// <summary>Whether the controller adapts the step from an error estimate (and so needs an embedded method).</summary>
    bool IsAdaptive { get; }
}
