using NeuralOde.Examples.Plotting;

namespace NeuralOde.Tests.Examples;

/// <summary>The examples' log axes always carry numbers, whatever range the data spans.</summary>
public sealed class ChartTests
{
    private static string[] MajorLabels(double minLog, double maxLog)
    {
        var plot = new ScottPlot.Plot();
        plot.Add.ScatterLine(new double[] { 0, 1 }, new double[] { minLog, maxLog });
        Charts.LogTicks(plot.Axes.Left, minLog, maxLog);
        plot.GetImage(400, 300).Dispose();   // ticks are generated when the plot is laid out
        return [.. plot.Axes.Left.TickGenerator.Ticks.Where(t => t.IsMajor).Select(t => t.Label)];
    }

    [Test]
    public void LogTicks_ForALossThatCrossesNoDecade_LabelsAtLeastThreeValues()
    {
        // cnf's loss runs from about 6 to 2.85 nats: no power of ten in between.
        string[] labels = MajorLabels(Math.Log10(2.85), Math.Log10(3.2));
        Assert.That(labels, Has.Length.GreaterThanOrEqualTo(3), string.Join(", ", labels));
        Assert.That(labels, Is.All.Matches<string>(l => double.TryParse(l, System.Globalization.CultureInfo.InvariantCulture, out _)));
    }

    [Test]
    public void LogTicks_OverOneToThreeDecades_LabelsOneTwoFive()
    {
        string[] labels = MajorLabels(Math.Log10(0.3), Math.Log10(40));
        Assert.That(labels, Does.Contain("1").And.Contain("2").And.Contain("5").And.Contain("10"), string.Join(", ", labels));
    }

    [Test]
    public void LogTicks_OverManyDecades_LabelsAtMostNineDecades()
    {
        string[] labels = MajorLabels(-15, 0.5);
        Assert.That(labels, Has.Length.InRange(4, 9), string.Join(", ", labels));
        Assert.That(labels, Does.Contain("1"));
    }
}
