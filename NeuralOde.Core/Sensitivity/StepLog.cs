using NeuralOde.Core.StepSize;

namespace NeuralOde.Core.Sensitivity;

/// <summary>
/// The accepted steps of a forward, run-length encoded: consecutive steps with the same step size and end-stage flag
/// that each end at Time + StepSize form one run, and consecutive fixed steps on one grid (boundaries
/// origin + sign·(j·h), see <see cref="FixedGrid"/>) form one grid run, so a fixed-step solve needs a run per interval
/// between landing times whatever its step count.
/// </summary>
/// <remarks>
/// Start times are not stored: step k + 1 starts where step k ends, and a reader that knows a step's start time (for
/// Checkpointed, the time kept with each checkpoint) walks forward from it with <see cref="Read"/>. A step that lands
/// on a time the integrator snapped to (an output, a step-to time, the end) ends its run and keeps that end time.
/// A step joins a run only when the run gives it back bit for bit, so the encoding never changes a step.
/// Adaptive steps rarely repeat a step size, so there a run is one step: 24 bytes per step.
/// </remarks>
internal sealed class StepLog
{
    /// <summary>
    /// Steps FirstStep.. up to the next run's first step; the last of them ends at EndTime when ExplicitEnd. A grid run
    /// holds fixed steps whose ends are boundaries 1, 2, … of the grid from Origin with the signed step StepSize.
    /// </summary>
    private readonly struct Run(int firstStep, bool endStageBeforeStepEnd, bool explicitEnd, bool grid, double stepSize, double endTime)
    {
        private const int EndStageFlag = 1, ExplicitEndFlag = 2, GridFlag = 4;
        private readonly int flags = (endStageBeforeStepEnd ? EndStageFlag : 0) | (explicitEnd ? ExplicitEndFlag : 0) | (grid ? GridFlag : 0);

        public int FirstStep { get; } = firstStep;

        public double StepSize { get; } = stepSize;

        /// <summary>The last step's end (when ExplicitEnd), or a grid run's origin.</summary>
        public double EndTime { get; } = endTime;

        public bool EndStageBeforeStepEnd => (flags & EndStageFlag) != 0;

        public bool ExplicitEnd => (flags & ExplicitEndFlag) != 0;

        public bool IsGrid => (flags & GridFlag) != 0;

        /// <summary>The end of the grid run's step <paramref name="step"/> (boundary step − FirstStep + 1).</summary>
        public double GridEnd(int step) => FixedGrid.OpenTime(EndTime, Math.Abs(StepSize), Math.Sign(StepSize), step - FirstStep + 1);

        public Run WithExplicitEnd(double endTime) => new(FirstStep, EndStageBeforeStepEnd, true, false, StepSize, endTime);
    }

    private readonly List<Run> runs = [];
    private double lastEnd = double.NaN;

    /// <summary>The number of steps logged.</summary>
    public int Count { get; private set; }

    /// <summary>The number of runs (a measure of what the log holds).</summary>
    public int RunCount => runs.Count;

    /// <summary>Bytes the log's storage holds (its capacity, not only what is in use).</summary>
    public long BytesHeld => (long)runs.Capacity * System.Runtime.CompilerServices.Unsafe.SizeOf<Run>();

    private double gridStep = double.NaN;

    /// <summary>Forgets every step; keeps the storage.</summary>
    /// <param name="fixedStep">The solve's fixed step size (unsigned) when it has one: its steps are then logged as grid runs.</param>
    public void Clear(double fixedStep = double.NaN)
    {
        runs.Clear();
        Count = 0;
        lastEnd = double.NaN;
        gridStep = fixedStep;
    }

    /// <summary>Appends the next accepted step, which must start where the previous one ended.</summary>
    /// <exception cref="InvalidOperationException">The step does not start at the previous step's end time.</exception>
    public void Add(in AcceptedStep step)
    {
        if (Count > 0 && step.Time != lastEnd)
            throw new InvalidOperationException($"Step {Count} starts at {step.Time:R}, not at the previous step's end {lastEnd:R}.");
        if (double.IsFinite(gridStep) && step.StepSize == step.EndTime - step.Time)
        {
            // A fixed step ending on the next boundary of the last grid run's grid continues it; one ending on
            // boundary 1 of the grid from its own start begins a new grid run.
            if (runs.Count > 0)
            {
                var last = runs[^1];
                if (last.IsGrid && last.EndStageBeforeStepEnd == step.EndStageBeforeStepEnd && last.GridEnd(Count) == step.EndTime)
                {
                    Append(step);
                    return;
                }
            }
            var grid = new Run(Count, step.EndStageBeforeStepEnd, false, true, Math.CopySign(gridStep, step.StepSize), step.Time);
            if (grid.GridEnd(Count) == step.EndTime)
            {
                runs.Add(grid);
                Append(step);
                return;
            }
        }
        bool regular = step.EndTime == step.Time + step.StepSize;
        if (runs.Count > 0)
        {
            var last = runs[^1];
            if (!last.ExplicitEnd && !last.IsGrid && last.StepSize == step.StepSize && last.EndStageBeforeStepEnd == step.EndStageBeforeStepEnd)
            {
                if (!regular) runs[^1] = last.WithExplicitEnd(step.EndTime);
                Append(step);
                return;
            }
        }
        runs.Add(new Run(Count, step.EndStageBeforeStepEnd, !regular, false, step.StepSize, regular ? double.NaN : step.EndTime));
        Append(step);
    }

    private void Append(in AcceptedStep step)
    {
        Count++;
        lastEnd = step.EndTime;
    }

    /// <summary>Step <paramref name="step"/>, given its start time (the previous step's end time, or a checkpoint's).</summary>
    public AcceptedStep Read(int step, double time)
    {
        if ((uint)step >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(step), step, $"The log holds {Count} steps.");
        int r = FindRun(step);
        var run = runs[r];
        if (run.IsGrid)
        {
            double gridEnd = run.GridEnd(step);
            return new AcceptedStep(time, gridEnd - time, gridEnd, run.EndStageBeforeStepEnd);
        }
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
