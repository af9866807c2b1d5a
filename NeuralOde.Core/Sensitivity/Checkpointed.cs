namespace NeuralOde.Core.Sensitivity;

/// <summary>Checkpointing: the exact gradient of the discrete solve, storing only each accepted step's start state.</summary>
/// <remarks>
/// <para>
/// The backward re-records one step at a time on a scratch tape from its checkpoint, so the tape memory is that of
/// one step. Without a budget one state per accepted step is kept. With <see cref="Budget"/> = k, at most k
/// checkpoints are kept, with an online thinning scheme (the step count is not known in advance): when the store is
/// full every other checkpoint is dropped and the spacing doubles; the backward then recomputes each segment between
/// checkpoints forward once, caching its states (at most one spacing's worth, never more than k), and reports the
/// recomputed steps. Once the spacing exceeds k (more than about k² steps) each step of a segment is recomputed from
/// its checkpoint instead, so the recomputation grows quadratically while the memory stays bounded.
/// </para>
/// <para>
/// What the budgeted store holds: per checkpoint the step's start state (one state), its step index (4 bytes) and
/// its start time (8 bytes); a segment cache of at most k states, each with its step's time, size and end (32
/// bytes); the accepted steps as a run-length log, in which each run is 24 bytes and consecutive steps of one size
/// share a run (a fixed-step solve needs two runs whatever its step count); and the index of each step that served
/// a cubic Hermite output from inside it. All of it is sized by k, the runs and the outputs, so with fixed steps the
/// memory does not grow with the step count. Adaptive steps rarely repeat a size: there the log keeps one run, 24
/// bytes, per step.
/// </para>
/// </remarks>
public sealed class Checkpointed : ISensitivity
{
    /// <summary>The most checkpoints kept at once (null: one per accepted step). At least 2.</summary>
    public int? Budget { get; init; }

    /// <inheritdoc/>
    ISolveGradient<T> ISensitivity.CreateSolveGradient<T>(AutoDiff.Shape stateShape) => new CheckpointedGradient<T>(stateShape, Budget);
}
