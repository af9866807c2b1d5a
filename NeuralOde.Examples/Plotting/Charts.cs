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

    /// <summary>Switches an axis to log10 ticks: the series on it must already hold log10 of the data.</summary>
    public static void LogTicks(IAxis axis)
    {
        axis.TickGenerator = new NumericAutomatic
        {
            MinorTickGenerator = new LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = value => FormattableString.Invariant($"1e{value:0}"),
        };
    }

    public static double[] Log10(IEnumerable<double> values) => [.. values.Select(v => Math.Log10(Math.Max(v, 1e-300)))];

    /// <summary>The training loss against iteration, on a log axis.</summary>
    public static Plot Loss(IReadOnlyList<double> losses, string title)
    {
        var plot = New(title, "iteration", "loss");
        double[] xs = [.. Enumerable.Range(1, losses.Count).Select(i => (double)i)];
        if (losses.Count > 0 && losses.All(l => l > 0))
        {
            Line(plot, xs, Log10(losses), "loss", 1.5f);
            LogTicks(plot.Axes.Left);
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
