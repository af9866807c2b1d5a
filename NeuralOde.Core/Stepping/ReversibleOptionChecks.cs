using NeuralOde.Core.StepSize;

namespace NeuralOde.Core;

/// <summary>The options the reversible solvers refuse: they land on every saved time and keep no stages.</summary>
internal static class ReversibleOptionChecks
{
    /// <summary>What <see cref="ReversibleHeun{T}"/> runs (and so the Reversible sensitivity): fixed steps, no method of another's choosing.</summary>
    public static void EnsureHeunSupported(SolveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MethodIsSet)
            throw new ArgumentException($"The Reversible sensitivity runs its own ReversibleHeun solver and supports no other method, but options.Method = {options.Method}: leave Method unset (another method's steps are not algebraically reversible; use Backprop or Checkpointed with it).", nameof(options));
        if (options.StepSize is not FixedStep)
            throw new ArgumentException($"The Reversible sensitivity needs fixed steps, but options.StepSize is {options.StepSize?.GetType().Name ?? "null"}: set StepSize = new FixedStep(h).", nameof(options));
        RefuseNonLandingOptions(options, "Reversible", ": a jump in f breaks the carried f(t, ŷ)", "keeps O(1) memory");
    }

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
