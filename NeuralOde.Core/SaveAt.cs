using System.Globalization;

namespace NeuralOde.Core;

/// <summary>Which states a solve returns: the times (the first is the initial time) and whether the initial state is kept.</summary>
public sealed class SaveAt
{
    private readonly double[] times;

    private SaveAt(double[] times, int firstSaved)
    {
        this.times = times;
        FirstSavedIndex = firstSaved;
    }

    /// <summary>The initial time t0 followed by every later time, strictly monotone (ascending or descending).</summary>
    public IReadOnlyList<double> AllTimes => times;

    /// <summary>The index in <see cref="AllTimes"/> of the first saved state (0, or the last for <see cref="End"/>).</summary>
    public int FirstSavedIndex { get; }

    /// <summary>The number of saved states.</summary>
    public int Count => times.Length - FirstSavedIndex;

    /// <summary>The initial time.</summary>
    public double StartTime => times[0];

    /// <summary>The last time.</summary>
    public double EndTime => times[^1];

    internal double[] TimesArray => times;

    /// <summary>Save the state at every time; the first time is the initial time t0 (its state is y0).</summary>
    /// <param name="times">At least two finite, strictly monotone times (ascending or descending).</param>
    /// <returns>The selection.</returns>
    /// <exception cref="ArgumentException">Fewer than two times, a non-finite time, or times not strictly monotone (the message names the index and values).</exception>
    public static SaveAt Times(params double[] times)
    {
        ArgumentNullException.ThrowIfNull(times);
        Validate(times, nameof(times));
        return new SaveAt((double[])times.Clone(), 0);
    }

    /// <summary>Save only the state at <paramref name="t1"/>, starting from <paramref name="t0"/>.</summary>
    /// <param name="t0">The initial time.</param>
    /// <param name="t1">The end time, different from <paramref name="t0"/>.</param>
    /// <returns>The selection.</returns>
    /// <exception cref="ArgumentException">A time is not finite, or the two are equal.</exception>
    public static SaveAt End(double t0, double t1)
    {
        double[] times = [t0, t1];
        Validate(times, nameof(t1));
        return new SaveAt(times, 1);
    }

    /// <summary>
    /// <see cref="End(double, double)"/> that overwrites <paramref name="owned"/> in place when it is one (and makes it
    /// otherwise): only for a selection the library owns and no caller holds, e.g. a solve node's learnable time span,
    /// so a warm solve over a changing span allocates nothing.
    /// </summary>
    internal static SaveAt EndInPlace(double t0, double t1, ref SaveAt? owned)
    {
        Validate([t0, t1], nameof(t1));
        if (owned is { FirstSavedIndex: 1, times.Length: 2 })
        {
            owned.times[0] = t0;
            owned.times[1] = t1;
            return owned;
        }
        return owned = new SaveAt([t0, t1], 1);
    }

    /// <summary>Throws as <see cref="End(double, double)"/> would for these times.</summary>
    internal static void ValidateEnd(double t0, double t1) => Validate([t0, t1], nameof(t1));

    private static void Validate(ReadOnlySpan<double> times, string paramName)
    {
        if (times.Length < 2) throw new ArgumentException($"At least two times are needed (the initial time and one more), got {times.Length}.", paramName);
        for (int i = 0; i < times.Length; i++)
        {
            if (!double.IsFinite(times[i])) throw new ArgumentException($"times[{i}] = {Format(times[i])} is not finite.", paramName);
        }
        double direction = Math.Sign(times[1] - times[0]);
        if (direction == 0) throw new ArgumentException($"times[0] and times[1] are both {Format(times[0])}: times must be strictly monotone.", paramName);
        for (int i = 1; i < times.Length; i++)
        {
            if (Math.Sign(times[i] - times[i - 1]) != direction)
                throw new ArgumentException($"times must be strictly monotone: times[{i - 1}] = {Format(times[i - 1])}, times[{i}] = {Format(times[i])}.", paramName);
        }
    }

    private static string Format(double x) => x.ToString("R", CultureInfo.InvariantCulture);
}
