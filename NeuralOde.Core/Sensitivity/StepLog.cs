namespace NeuralOde.Core.Sensitivity;

/// <summary>
/// The accepted steps of a forward, run-length encoded: consecutive steps with the same step size and end-stage flag
/// that each end at Time + StepSize form one run, so a fixed-step solve needs two runs whatever its step count.
/// </summary>
/// <remarks>
/// Start times are not stored: step k + 1 starts where step k ends, and a reader that knows a step's start time (for
/// Checkpointed, the time kept with each checkpoint) walks forward from it with <see cref="Read"/>. A step that lands
/// on a time the integrator snapped to (an output, a step-to time, the end) ends its run and keeps that end time.
/// Adaptive steps rarely repeat a step size, so there a run is one step: 24 bytes per step.
/// </remarks>
internal sealed class StepLog
{
    /// <summary>Steps FirstStep.. up to the next run's first step; the last of them ends at EndTime when ExplicitEnd.</summary>
    private readonly record struct Run(int FirstStep, bool EndStageBeforeStepEnd, bool ExplicitEnd, double StepSize, double EndTime);

    private readonly List<Run> runs = [];
    private double lastEnd = double.NaN;

    /// <summary>The number of steps logged.</summary>
    public int Count { get; private set; }

    /// <summary>The number of runs (a measure of what the log holds).</summary>
    public int RunCount => runs.Count;

    /// <summary>Bytes the log's storage holds (its capacity, not only what is in use).</summary>
    public long BytesHeld => (long)runs.Capacity * System.Runtime.CompilerServices.Unsafe.SizeOf<Run>();

    /// <summary>Forgets every step; keeps the storage.</summary>
    public void Clear()
    {
        runs.Clear();
        Count = 0;
        lastEnd = double.NaN;
    }

    /// <summary>Appends the next accepted step, which must start where the previous one ended.</summary>
    /// <exception cref="InvalidOperationException">The step does not start at the previous step's end time.</exception>
    public void Add(in AcceptedStep step)
    {
        if (Count > 0 && step.Time != lastEnd)
            throw new InvalidOperationException($"Step {Count} starts at {step.Time:R}, not at the previous step's end {lastEnd:R}.");
        bool regular = step.EndTime == step.Time + step.StepSize;
        if (runs.Count > 0)
        {
            var last = runs[^1];
            if (!last.ExplicitEnd && last.StepSize == step.StepSize && last.EndStageBeforeStepEnd == step.EndStageBeforeStepEnd)
            {
                if (!regular) runs[^1] = last with { ExplicitEnd = true, EndTime = step.EndTime };
                Count++;
                lastEnd = step.EndTime;
                return;
            }
        }
        runs.Add(new Run(Count, step.EndStageBeforeStepEnd, !regular, step.StepSize, regular ? double.NaN : step.EndTime));
        Count++;
        lastEnd = step.EndTime;
    }

    /// <summary>Step <paramref name="step"/>, given its start time (the previous step's end time, or a checkpoint's).</summary>
    public AcceptedStep Read(int step, double time)
    {
        if ((uint)step >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(step), step, $"The log holds {Count} steps.");
        int r = FindRun(step);
        var run = runs[r];
        bool lastOfRun = step == (r + 1 < runs.Count ? runs[r + 1].FirstStep : Count) - 1;
        double end = run.ExplicitEnd && lastOfRun ? run.EndTime : time + run.StepSize;
        return new AcceptedStep(time, run.StepSize, end, run.EndStageBeforeStepEnd);
    }

    /// <summary>The index of the run holding <paramref name="step"/> (binary search over the runs' first steps).</summary>
    private int FindRun(int step)
    {
        int lo = 0, hi = runs.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >> 1;
            if (runs[mid].FirstStep <= step) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }
}
