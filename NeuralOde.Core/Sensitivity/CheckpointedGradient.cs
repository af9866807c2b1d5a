using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.Core.Solvers;

namespace NeuralOde.Core.Sensitivity;

/// <summary>Checkpointed: keeps accepted steps' start states (all, or at most a budget) and re-records one step at a time.</summary>
internal sealed class CheckpointedGradient<T> : StepwiseGradient<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int? budget;
    private readonly List<int> checkpointSteps = [];
    private readonly List<bool> interior = [];
    private T[] checkpoints = [];
    private T[] segment = [];
    private T[] y1 = [];
    private int segmentStart = -1, segmentLength;
    private int spacing = 1;
    private int endRecord = -1;
    private ExplicitRungeKutta<T>? engine;
    private long recomputedEvaluations;
    private int recomputedSteps;

    public CheckpointedGradient(Shape stateShape, int? budget) : base(stateShape)
    {
        if (budget is < 2) throw new ArgumentOutOfRangeException(nameof(budget), budget, "A checkpoint budget must be at least 2.");
        this.budget = budget;
    }

    /// <summary>The most checkpoints held at once during the last forward.</summary>
    public int MaxCheckpointsHeld { get; private set; }

    protected override ReadOnlySpan<T> InitialState => checkpoints.AsSpan(0, StateShape.Length);

    protected override long RecomputedEvaluations => recomputedEvaluations;

    protected override int RecomputedStepCount => recomputedSteps;

    protected override void BeginForward()
    {
        int n = StateShape.Length;
        checkpointSteps.Clear();
        interior.Clear();
        spacing = 1;
        segmentStart = -1;
        MaxCheckpointsHeld = 0;
        recomputedEvaluations = 0;
        recomputedSteps = 0;
        if (y1.Length != n)
        {
            y1 = new T[n];
            engine = null;
        }
        if (budget is int k && checkpoints.Length != k * n)
        {
            checkpoints = new T[k * n];
            segment = new T[k * n];
        }
    }

    protected override void OnAcceptedStep(int step, ReadOnlySpan<T> startState)
    {
        interior.Add(false);
        int n = StateShape.Length;
        if (budget is int k)
        {
            if (step % spacing != 0) return;
            if (checkpointSteps.Count == k)
            {
                // Online thinning: keep every other checkpoint and double the spacing.
                int kept = 0;
                for (int c = 0; c < checkpointSteps.Count; c++)
                {
                    if (checkpointSteps[c] % (2 * spacing) != 0) continue;
                    checkpoints.AsSpan(c * n, n).CopyTo(checkpoints.AsSpan(kept * n, n));
                    checkpointSteps[kept++] = checkpointSteps[c];
                }
                checkpointSteps.RemoveRange(kept, checkpointSteps.Count - kept);
                spacing *= 2;
                if (step % spacing != 0) return;
            }
        }
        else if (checkpoints.Length < (step + 1) * n)
        {
            Array.Resize(ref checkpoints, Math.Max((step + 1) * n, checkpoints.Length * 2));
        }
        startState.CopyTo(checkpoints.AsSpan(checkpointSteps.Count * n, n));
        checkpointSteps.Add(step);
        MaxCheckpointsHeld = Math.Max(MaxCheckpointsHeld, checkpointSteps.Count);
    }

    protected override void OnInteriorOutputs(int step, ReadOnlySpan<T> endState) => interior[step] = true;

    protected override int PrepareStep(int step)
    {
        var info = Steps[step];
        Recorder.Reset();
        int first = Recorder.RecordStep(Dynamics, info.Time, info.StepSize, StartState(step), -1, info.EndStageBeforeStepEnd, y1);
        recomputedEvaluations += Recorder.Count;
        recomputedSteps++;
        endRecord = -1;
        if (interior[step] && !Recorder.Tableau.HasDenseOutput && !Recorder.Tableau.IsFsal)
        {
            endRecord = Recorder.RecordEvaluation(Dynamics, info.EndTime, y1);
            recomputedEvaluations++;
        }
        return first;
    }

    protected override int EndDerivativeRecord(int step) => endRecord;

    /// <summary>The start state of step k: a checkpoint, or recomputed forward from the nearest earlier one.</summary>
    private ReadOnlySpan<T> StartState(int step)
    {
        int n = StateShape.Length;
        int c = checkpointSteps.BinarySearch(step);
        if (c >= 0) return checkpoints.AsSpan(c * n, n);
        c = ~c - 1;
        int from = checkpointSteps[c];
        if (segmentStart == from && step - from < segmentLength) return segment.AsSpan((step - from) * n, n);

        // Recompute the segment from checkpoint c, caching as many of its states as the budget allows.
        int cacheable = budget ?? int.MaxValue;
        int end = c + 1 < checkpointSteps.Count ? checkpointSteps[c + 1] : Steps.Count;
        int length = Math.Min(end - from, cacheable);
        if (step - from >= length) length = 0;
        engine ??= new ExplicitRungeKutta<T>(Options.Method, n) { TorchdiffeqStageTimes = Options.TorchdiffeqStageTimes };
        ReadOnlySpan<T> state = checkpoints.AsSpan(c * n, n);
        if (length > 0)
        {
            if (segment.Length < length * n) segment = new T[length * n];
            segmentStart = from;
            segmentLength = length;
            state.CopyTo(segment.AsSpan(0, n));
            for (int k = from; k < from + length - 1; k++) PlainStep(k, segment.AsSpan((k - from) * n, n), segment.AsSpan((k - from + 1) * n, n));
            return segment.AsSpan((step - from) * n, n);
        }

        // The segment is longer than the budget: step forward from the checkpoint each time (quadratic, bounded memory).
        state.CopyTo(y1);
        for (int k = from; k < step; k++) PlainStep(k, y1, y1);
        return y1;
    }

    private void PlainStep(int k, ReadOnlySpan<T> start, Span<T> end)
    {
        var info = Steps[k];
        engine!.EndStageBeforeStepEnd = info.EndStageBeforeStepEnd;
        long before = engine.FunctionEvaluations;
        engine.Step(Dynamics, info.Time, info.StepSize, start, default, end, default);
        recomputedEvaluations += engine.FunctionEvaluations - before;
        recomputedSteps++;
    }
}
