using System.Globalization;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Core;

/// <summary>
/// The fixed-step grid of a reversible solve: for each interval [t_k, t_{k+1}] between consecutive times, m_k steps at
/// t_k + j·h (j &lt; m_k) and t_{k+1}. Forward and reverse passes compute each step time from its index, so both see
/// bit-identical times and step sizes.
/// </summary>
internal sealed class ReversibleSchedule
{
    private ReversibleSchedule(int intervals) => StepCounts = new int[intervals];

    /// <summary>All times, t0 first (as <see cref="SaveAt.AllTimes"/>).</summary>
    public double[] Times { get; private set; } = [];

    /// <summary>Steps in each interval.</summary>
    public int[] StepCounts { get; }

    /// <summary>The unsigned step size h.</summary>
    public double StepSize { get; private set; }

    /// <summary>Steps over the whole solve.</summary>
    public int TotalSteps { get; private set; }

    /// <summary>The first step's signed size.</summary>
    public double FirstStep => StepTime(0, 1) - StepTime(0, 0);

    /// <summary>The time of step boundary j (0 … m_k) of interval k.</summary>
    public double StepTime(int k, int j) => FixedGrid.Time(Times[k], Times[k + 1], StepSize, Math.Sign(Times[k + 1] - Times[k]), j, StepCounts[k]);

    /// <summary>The grid of <paramref name="saveAt"/> with steps of <paramref name="stepSize"/>.</summary>
    /// <param name="saveAt">The times.</param>
    /// <param name="stepSize">The unsigned step size.</param>
    /// <param name="maxSteps">The most steps allowed; more throws before any step is taken.</param>
    /// <param name="reuse">A schedule of an earlier solve to overwrite when it has as many intervals (a warm solve then allocates nothing), or null.</param>
    /// <returns>The schedule: <paramref name="reuse"/> or a new one.</returns>
    public static ReversibleSchedule Create(SaveAt saveAt, double stepSize, int maxSteps, ReversibleSchedule? reuse = null)
    {
        if (!(stepSize > 0) || !double.IsFinite(stepSize))
            throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, $"The step size must be positive and finite, got {stepSize.ToString("R", CultureInfo.InvariantCulture)}.");
        double[] times = saveAt.TimesArray;
        var schedule = reuse is not null && reuse.StepCounts.Length == times.Length - 1 ? reuse : new ReversibleSchedule(times.Length - 1);
        int[] counts = schedule.StepCounts;
        long total = 0;
        for (int k = 0; k < counts.Length; k++)
        {
            double m = FixedGrid.StepCount(times[k], times[k + 1], stepSize);
            if (m > int.MaxValue || total + m > maxSteps) throw TooManySteps(times, k, stepSize, total + m, maxSteps);
            counts[k] = (int)m;
            total += counts[k];
        }
        schedule.Times = times;
        schedule.StepSize = stepSize;
        schedule.TotalSteps = (int)total;
        return schedule;
    }

    /// <summary>The step size needs more than MaxSteps steps: refused before any step is taken.</summary>
    private static OdeSolverException TooManySteps(double[] times, int k, double stepSize, double needed, int maxSteps)
    {
        string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        return new OdeSolverException(SolveFailure.MaxStepsReached, times[0], stepSize, 0,
            $"ReversibleHeun's fixed step h = {F(stepSize)} needs {needed.ToString("G4", CultureInfo.InvariantCulture)} steps from t = {F(times[0])} to t = {F(times[k + 1])}, more than MaxSteps = {maxSteps}: no step was taken. Use a larger step or raise MaxSteps.");
    }
}
