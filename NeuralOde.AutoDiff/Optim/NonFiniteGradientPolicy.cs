using System.Numerics;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.AutoDiff.Optim;

/// <summary>What an optimizer's <see cref="IOptimizer.Step"/> does when a gradient is NaN or ±∞ (opt-in; the default applies the step as before).</summary>
/// <remarks>
/// The check is one SIMD sum over the gradients per step (a scan follows only when the sum is not finite) and
/// allocates nothing. <see cref="Skip"/> is PyTorch's <c>GradScaler</c> behaviour (the step is skipped, parameters and
/// optimizer state untouched); <see cref="Throw"/> is <c>clip_grad_norm_(error_if_nonfinite=True)</c>.
/// </remarks>
public enum NonFiniteGradientPolicy
{
    /// <summary>Apply the update whatever the gradients hold (the default; NaN then reaches the parameters).</summary>
    Apply,

    /// <summary>Leave the parameters, the optimizer's state and its step count unchanged, and count the step in <c>SkippedSteps</c>.</summary>
    Skip,

    /// <summary>Throw <see cref="NonFiniteGradientException"/> naming the optimizer and the first non-finite parameter; nothing is changed.</summary>
    Throw,
}

/// <summary>The optimizers' shared non-finite gradient guard.</summary>
internal static class NonFiniteGradientGuard
{
    /// <summary>True if the step must be skipped; throws for <see cref="NonFiniteGradientPolicy.Throw"/>.</summary>
    public static bool Refuses<T>(NonFiniteGradientPolicy policy, ParameterSet<T> parameters, ReadOnlySpan<T> gradients, string optimizer)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (policy == NonFiniteGradientPolicy.Apply) return false;
        if (policy == NonFiniteGradientPolicy.Throw)
        {
            NonFiniteGradientException.ThrowIfNonFinite(parameters, gradients, optimizer, "refused a step (NonFiniteGradients = Throw)");
            return false;
        }
        return NonFiniteGradientException.FirstNonFinite(gradients) >= 0;
    }
}
