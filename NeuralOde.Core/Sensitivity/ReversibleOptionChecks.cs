namespace NeuralOde.Core.Sensitivity;

/// <summary>The options both reversible strategies refuse: they land on every saved time and keep no stages.</summary>
internal static class ReversibleOptionChecks
{
    /// <summary>Throws for StepPastEnd, StepToTimes, JumpTimes or DenseOutput, naming <paramref name="strategy"/> and why.</summary>
    public static void RefuseNonLandingOptions(SolveOptions options, string strategy, string jumpReason, string denseReason)
    {
        if (options.Stepper is not null)
            throw new ArgumentException($"The {strategy} sensitivity runs its own reversible solver; options.Stepper ({options.Stepper.GetType().Name}) is not supported: use Backprop or Checkpointed with a stepper of your own.", nameof(options));
        if (options.StepPastEnd)
            throw new ArgumentException($"The {strategy} sensitivity lands on every saved time; options.StepPastEnd = true is not supported.", nameof(options));
        if (options.StepToTimes.Count > 0)
            throw new ArgumentException($"The {strategy} sensitivity does not support StepToTimes (got {options.StepToTimes.Count}); add them as saved times instead.", nameof(options));
        if (options.JumpTimes.Count > 0)
            throw new ArgumentException($"The {strategy} sensitivity does not support JumpTimes (got {options.JumpTimes.Count}){jumpReason}.", nameof(options));
        if (options.DenseOutput)
            throw new ArgumentException($"The {strategy} sensitivity {denseReason} and has no dense output; options.DenseOutput = true is not supported.", nameof(options));
    }
}
