namespace NeuralOde.Core.Sensitivity;

/// <summary>Checkpointing: the exact gradient of the discrete solve, storing only each accepted step's start state.</summary>
/// <remarks>
/// The backward re-records one step at a time on a scratch tape from its checkpoint, so the tape memory is that of
/// one step. Without a budget one state per accepted step is kept. With <see cref="Budget"/> = k, at most k
/// checkpoints are kept, with an online thinning scheme (the step count is not known in advance): when the store is
/// full every other checkpoint is dropped and the spacing doubles; the backward then recomputes each segment between
/// checkpoints forward once, caching its states (at most one spacing's worth, never more than k), and reports the
/// recomputed steps.
/// </remarks>
public sealed class Checkpointed : ISensitivity
{
    /// <summary>The most checkpoints kept at once (null: one per accepted step). At least 2.</summary>
    public int? Budget { get; init; }
}
