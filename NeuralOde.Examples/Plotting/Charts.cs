using ScottPlot;
using ScottPlot.TickGenerators;

namespace NeuralOde.Examples.Plotting;

/// <summary>Small ScottPlot helpers shared by the examples: line and point series, log axes, loss curves, PNG output.</summary>
internal static class Charts
{
    public const int Width = 800;
    public const int Height = 600;

    public static Plot New(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }

    public static void Line(Plot plot, double[] xs, double[] ys, string label, float width = 2, LinePattern? pattern = null, float markerSize = 0)
    {
        var series = plot.Add.ScatterLine(xs, ys);
        series.LegendText = label;
        series.LineWidth = width;
        series.MarkerSize = markerSize;
        if (pattern is { } p) series.LinePattern = p;
    }

    public static void Points(Plot plot, double[] xs, double[] ys, string label, float size = 5)
    {
        var series = plot.Add.ScatterPoints(xs, ys);
        series.LegendText = label;
        series.MarkerSize = size;
    }

    /// <summary>
    /// Log10 ticks for data spanning [<paramref name="minLog"/>, <paramref name="maxLog"/>] (the series on the axis must
    /// already hold log10 of the data), labelled with the values themselves. Decades when the data spans three or more;
    /// 1, 2, 5 per decade over one to three; and evenly spaced values when it stays within a decade, so a log axis always
    /// has at least a few numbers on it (a loss from 3.2 to 2.85 crosses no decade).
    /// </summary>
    public static void LogTicks(IAxis axis, double minLog, double maxLog)
    {
        if (!double.IsFinite(minLog) || !double.IsFinite(maxLog)) (minLog, maxLog) = (0, 1);
        if (maxLog < minLog) (minLog, maxLog) = (maxLog, minLog);
        double pad = Math.Max(0.05 * (maxLog - minLog), 1e-3);
        double lo = minLog - pad, hi = maxLog + pad, span = hi - lo;
        var ticks = new NumericManual();
        var majors = new List<double>();
        if (span >= 3)
        {
            int stride = (int)Math.Ceiling(span / 8);
            for (int d = (int)Math.Floor(lo); d <= (int)Math.Ceiling(hi); d++)
            {
                if (d % stride == 0) majors.Add(Math.Pow(10, d));
                if (span <= 8)
                {
                    for (int m = 2; m <= 9; m++)
                    {
                        double minor = Math.Log10(m) + d;
                        if (minor >= lo && minor <= hi) ticks.AddMinor(minor);
                    }
                }
            }
        }
        else if (span >= 1)
        {
            for (int d = (int)Math.Floor(lo); d <= (int)Math.Ceiling(hi); d++)
            {
                foreach (double m in (double[])[1, 2, 5]) majors.Add(m * Math.Pow(10, d));
            }
        }
        else
        {
            double min = Math.Pow(10, lo), max = Math.Pow(10, hi);
            double step = NiceStep((max - min) / 5);
            for (double v = Math.Ceiling(min / step) * step; v <= max; v += step) majors.Add(Math.Round(v / step) * step);
        }
        foreach (double v in majors)
        {
            double position = Math.Log10(v);
            if (position >= lo && position <= hi) ticks.AddMajor(position, FormatTick(v));
        }
        axis.TickGenerator = ticks;
    }

    /// <summary>Log ticks for the range of <paramref name="log10Values"/> (non-finite values are skipped).</summary>
    public static void LogTicks(IAxis axis, IEnumerable<double> log10Values)
    {
        double[] finite = [.. log10Values.Where(double.IsFinite)];
        if (finite.Length == 0) LogTicks(axis, 0, 1);
        else LogTicks(axis, finite.Min(), finite.Max());
    }

    private static double NiceStep(double rough)
    {
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double fraction = rough / magnitude;
        return magnitude * (fraction < 1.5 ? 1 : fraction < 3.5 ? 2 : fraction < 7.5 ? 5 : 10);
    }

    private static string FormatTick(double value)
    {
        double exponent = Math.Floor(Math.Log10(Math.Abs(value)) + 1e-9);
        if (exponent is >= -3 and <= 5) return value.ToString("G4", System.Globalization.CultureInfo.InvariantCulture);
        double mantissa = value / Math.Pow(10, exponent);
        return Math.Abs(mantissa - 1) < 1e-9
            ? FormattableString.Invariant($"1e{exponent:0}")
            : FormattableString.Invariant($"{mantissa:0.##}e{exponent:0}");
    }

    /// <summary>Ticks only at whole numbers (iterations, epochs): a short run would otherwise show iteration 1.2.</summary>
    public static void IntegerTicks(IAxis axis) => axis.TickGenerator = new NumericAutomatic { IntegerTicksOnly = true };

    public static double[] Log10(IEnumerable<double> values) => [.. values.Select(v => Math.Log10(Math.Max(v, 1e-300)))];

    /// <summary>The training loss against iteration, on a log axis.</summary>
    public static Plot Loss(IReadOnlyList<double> losses, string title)
    {
        var plot = New(title, "iteration", "loss");
        IntegerTicks(plot.Axes.Bottom);
        double[] xs = [.. Enumerable.Range(1, losses.Count).Select(i => (double)i)];
        if (losses.Count > 0 && losses.All(l => l > 0))
        {
            double[] logLosses = Log10(losses);
            Line(plot, xs, logLosses, "loss", 1.5f);
            LogTicks(plot.Axes.Left, logLosses);
        }
        else if (losses.Count > 0)
        {
            Line(plot, xs, [.. losses], "loss", 1.5f);
        }
        return plot;
    }

    /// <summary>Writes the plot as a PNG of the standard size and returns its path.</summary>
    public static string Save(Plot plot, string path, int width = Width, int height = Height, bool legendOutside = false)
    {
        if (legendOutside) plot.ShowLegend(Edge.Right);
        else plot.ShowLegend();
        plot.SavePng(path, width, height);
        return path;
    }
}
