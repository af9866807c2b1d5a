using System.Numerics;
using System.Runtime.CompilerServices;
using NeuralOde.AutoDiff;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Core.Sensitivity;

/// <summary>Checkpointed: keeps accepted steps' start states (all, or at most a budget) and re-records one step at a time.</summary>
/// <remarks>
/// Per checkpoint it holds the start state (n elements), the step's index and its start time. The steps themselves
/// live in a run-length <see cref="StepLog"/> (two runs for a fixed-step solve), and a step's start time is recovered
/// by walking forward from the nearest checkpoint. With a budget k the segment cache holds at most k recomputed
/// states with their steps, allocated once and sized by k, not by the step count; what grows is the step log's runs
/// (one per change of step size) and the list of steps with interior outputs (one per such step). Without a budget the
/// states sit in 64 KiB blocks (<see cref="StateBlocks{T}"/>), one per step.
/// </remarks>
internal sealed class CheckpointedGradient<T> : StepwiseGradient<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int? budget;
    private readonly StepLog log = new();
    private readonly List<int> checkpointSteps = [];
    private readonly List<double> checkpointTimes = [];
    private readonly List<int> interiorSteps = [];
    private readonly StateBlocks<T> checkpoints = new();
    private T[] segment = [];
    private AcceptedStep[] segmentSteps = [];
    private T[] y1 = [];
    private int segmentStart = -1, segmentLength;
    private int spacing = 1;
    private int endRecord = -1;
    private IStepper<T>? engine;
    private IStepperFactory? engineFactory;
    private long recomputedEvaluations;
    private int recomputedSteps;

    public CheckpointedGradient(Shape stateShape, int? budget) : base(stateShape)
    {
        if (budget is < 2) throw new ArgumentOutOfRangeException(nameof(budget), budget, "A checkpoint budget must be at least 2.");
        this.budget = budget;
    }

    /// <summary>The most checkpoints held at once during the last forward.</summary>
    public int MaxCheckpointsHeld { get; private set; }

    /// <summary>
    /// Bytes the checkpoint store holds after the last forward and backward: checkpoint states, their steps and
    /// times, the segment cache, the step log and the list of steps with interior outputs (capacities, not lengths).
    /// </summary>
    public long StoreBytes =>
        checkpoints.BytesHeld + (long)segment.Length * Unsafe.SizeOf<T>()
        + (long)segmentSteps.Length * Unsafe.SizeOf<AcceptedStep>()
        + (long)checkpointSteps.Capacity * sizeof(int)
        + (long)checkpointTimes.Capacity * sizeof(double)
        + (long)interiorSteps.Capacity * sizeof(int)
        + log.BytesHeld;

    protected override ReadOnlySpan<T> InitialState => checkpoints[0];

    protected override long RecomputedEvaluations => recomputedEvaluations;

    protected override int RecomputedStepCount => recomputedSteps;

    protected override void BeginForward()
    {
        int n = StateShape.Length;
        log.Clear(Options.StepSize is FixedStep fixedStep ? fixedStep.StepSize : double.NaN);
        checkpointSteps.Clear();
        checkpointTimes.Clear();
        interiorSteps.Clear();
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
        checkpoints.Reset(n, budget);
        if (budget is int k && segment.Length != k * n)
        {
            segment = new T[k * n];
            segmentSteps = new AcceptedStep[k];
            checkpointSteps.Capacity = k;
            checkpointTimes.Capacity = k;
        }
    }

    protected override void OnAcceptedStep(int step, in AcceptedStep info, StartDerivativeSource source, ReadOnlySpan<T> startState)
    {
        log.Add(info);
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
                    checkpoints[c].CopyTo(checkpoints[kept]);
                    checkpointTimes[kept] = checkpointTimes[c];
                    checkpointSteps[kept++] = checkpointSteps[c];
                }
                checkpointSteps.RemoveRange(kept, checkpointSteps.Count - kept);
                checkpointTimes.RemoveRange(kept, checkpointTimes.Count - kept);
                spacing *= 2;
                if (step % spacing != 0) return;
            }
        }
        startState.CopyTo(checkpoints[checkpointSteps.Count]);
        checkpointSteps.Add(step);
        checkpointTimes.Add(info.Time);
        MaxCheckpointsHeld = Math.Max(MaxCheckpointsHeld, checkpointSteps.Count);
    }

    protected override void OnEndDerivativeEvaluated(int step, in AcceptedStep info, ReadOnlySpan<T> endState) => interiorSteps.Add(step);

    protected override int PrepareStep(int step, out AcceptedStep info)
    {
        ReadOnlySpan<T> start = StartState(step, out info);
        Recorder.Reset();
        int first = Recorder.RecordStep(Dynamics, info.Time, info.StepSize, start, -1, info.EndStageBeforeStepEnd, y1);
        recomputedEvaluations += Recorder.Count;
        recomputedSteps++;
        endRecord = -1;
        if (!Recorder.Tableau.HasDenseOutput && !Recorder.Tableau.IsFsal && interiorSteps.BinarySearch(step) >= 0)
        {
            endRecord = Recorder.RecordEvaluation(Dynamics, info.EndTime, y1);
            recomputedEvaluations++;
        }
        return first;
    }

    protected override int EndDerivativeRecord(int step) => endRecord;

    /// <summary>The start state of step k and the step: a checkpoint, or recomputed forward from the nearest earlier one.</summary>
    private ReadOnlySpan<T> StartState(int step, out AcceptedStep info)
    {
        int n = StateShape.Length;
        int c = checkpointSteps.BinarySearch(step);
        if (c >= 0)
        {
            info = log.Read(step, checkpointTimes[c]);
            return checkpoints[c];
        }
        c = ~c - 1;
        int from = checkpointSteps[c];
        if (segmentStart == from && step - from < segmentLength)
        {
            info = segmentSteps[step - from];
            return segment.AsSpan((step - from) * n, n);
        }

        // Recompute the segment from checkpoint c, caching as many of its states as the budget allows.
        int cacheable = budget ?? int.MaxValue;
        int end = c + 1 < checkpointSteps.Count ? checkpointSteps[c + 1] : StepCount;
        int length = Math.Min(end - from, cacheable);
        if (step - from >= length) length = 0;
        // Rebuilt when the method changed since it was made: segments are recomputed with the forward's own method.
        EnsureEngine(n);
        ReadOnlySpan<T> state = checkpoints[c];
        var current = log.Read(from, checkpointTimes[c]);
        if (length > 0)
        {
            if (segment.Length < length * n) segment = new T[length * n];
            if (segmentSteps.Length < length) segmentSteps = new AcceptedStep[length];
            segmentStart = from;
            segmentLength = length;
            state.CopyTo(segment.AsSpan(0, n));
            segmentSteps[0] = current;
            for (int j = 1; j < length; j++)
            {
                PlainStep(current, segment.AsSpan((j - 1) * n, n), segment.AsSpan(j * n, n));
                current = log.Read(from + j, current.EndTime);
                segmentSteps[j] = current;
            }
            info = segmentSteps[step - from];
            return segment.AsSpan((step - from) * n, n);
        }

        // The segment is longer than the budget: step forward from the checkpoint each time (quadratic, bounded memory).
        state.CopyTo(y1);
        for (int k = from; k < step; k++)
        {
            PlainStep(current, y1, y1);
            current = log.Read(k + 1, current.EndTime);
        }
        info = current;
        return y1;
    }

    /// <summary>The stepper segments are recomputed with: the forward's own method (the user's stepper or the tableau), rebuilt when it changed.</summary>
    private void EnsureEngine(int n)
    {
        if (Options.Stepper is { } factory)
        {
            if (engine is null || !ReferenceEquals(engineFactory, factory) || engine.Dimension != n) engine = factory.Create<T>(n, Options.StepperTolerances());
            engineFactory = factory;
            return;
        }
        engineFactory = null;
        if (engine is not ExplicitRungeKutta<T> rk || !ReferenceEquals(rk.Tableau, Options.Method) || rk.TorchdiffeqStageTimes != Options.TorchdiffeqStageTimes)
            engine = new ExplicitRungeKutta<T>(Options.Method, n) { TorchdiffeqStageTimes = Options.TorchdiffeqStageTimes };
    }

    protected override ReadOnlySpan<T> StepStartState(int step, out AcceptedStep info)
    {
        ReadOnlySpan<T> start = StartState(step, out info);
        recomputedSteps++;
        return start;
    }

    private void PlainStep(in AcceptedStep info, ReadOnlySpan<T> start, Span<T> end)
    {
        StepOutcome outcome = engine!.Step(Dynamics, new StepInput(info.Time, info.StepSize, info.EndStageBeforeStepEnd, info.EndTime), start, default, end, default);
        recomputedEvaluations += outcome.Evaluations;
        recomputedSteps++;
    }
}
