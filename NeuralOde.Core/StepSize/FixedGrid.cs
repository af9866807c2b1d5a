namespace NeuralOde.Core.StepSize;

/// <summary>
/// The one fixed-step grid: between consecutive landing times a and b (saved times, step-to and jump times, the end),
/// m = max(1, ⌈|b − a|/h − 1e-9⌉) steps whose boundaries are a + sign(b − a)·(j·h) for j &lt; m and b itself for j = m.
/// Each boundary is computed from its index, never by accumulating t += h, so a reverse pass recomputes exactly the
/// same times; a remainder below 1e-9·h is merged into the last step.
/// </summary>
internal static class FixedGrid
{
    /// <summary>The relative slack below which a remainder is merged into the previous step (as the adaptive loop's landing rule).</summary>
    public const double LandingSlack = 1e-9;

    /// <summary>The number of steps from <paramref name="origin"/> to <paramref name="stop"/> with the step <paramref name="h"/> (unsigned).</summary>
    public static double StepCount(double origin, double stop, double h) => Math.Max(1, Math.Ceiling(Math.Abs(stop - origin) / h - LandingSlack));

    /// <summary>Boundary <paramref name="j"/> (0 … <paramref name="m"/>) of the grid from <paramref name="origin"/> to <paramref name="stop"/>.</summary>
    public static double Time(double origin, double stop, double h, double direction, long j, double m) =>
        j == 0 ? origin : j >= m ? stop : origin + direction * (j * h);

    /// <summary>Boundary <paramref name="j"/> of a grid with no landing time ahead.</summary>
    public static double OpenTime(double origin, double h, double direction, long j) => j == 0 ? origin : origin + direction * (j * h);
}
