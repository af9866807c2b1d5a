using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace NeuralOde.Examples.App;

/// <summary>One training iteration's report: its loss and the function evaluations of its forward and backward solves.</summary>
internal readonly record struct IterationReport(double Loss, long ForwardEvaluations, long BackwardEvaluations);

internal static class Evaluations
{
    /// <summary>NFE-B as the library defines it (<see cref="NeuralOde.Core.Sensitivity.OdeSolveNode{T}.BackwardEvaluations"/>): evaluations of f in the backward pass, 0 for backprop.</summary>
    public static long Backward<T>(NeuralOde.Core.Sensitivity.OdeSolveNode<T> solve)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => solve.BackwardEvaluations;

    /// <summary>NFE-F/NFE-B as every command prints them, e.g. "NFE-F/B 23/0".</summary>
    public static string Format(double forward, double backward, string format = "0") =>
        string.Create(CultureInfo.InvariantCulture, $"NFE-F/B {forward.ToString(format, CultureInfo.InvariantCulture)}/{backward.ToString(format, CultureInfo.InvariantCulture)}");
}

/// <summary>Runs a training loop under a live progress bar (loss, NFE, iterations per second) and stops cleanly on Ctrl+C.</summary>
internal static class TrainingLoop
{
    /// <summary>Runs up to <paramref name="iterations"/> steps; returns the losses of those that ran (fewer after Ctrl+C).</summary>
    public static List<double> Run(RunContext context, string title, int iterations, Func<int, IterationReport> step)
    {
        var losses = new List<double>(iterations);
        long forward = 0, backward = 0;
        var clock = Stopwatch.StartNew();
        context.Console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(progress =>
            {
                var task = progress.AddTask(Markup.Escape(title), maxValue: iterations);
                double lastUpdate = double.NegativeInfinity;
                for (int i = 0; i < iterations && !context.Cancelled; i++)
                {
                    var report = step(i);
                    losses.Add(report.Loss);
                    forward = report.ForwardEvaluations;
                    backward = report.BackwardEvaluations;
                    task.Increment(1);
                    double now = clock.Elapsed.TotalSeconds;
                    if (now - lastUpdate > 0.1 || i == iterations - 1)
                    {
                        lastUpdate = now;
                        task.Description = Markup.Escape(Describe(title, report.Loss, forward, backward, losses.Count / Math.Max(now, 1e-9)));
                    }
                }
                if (context.Cancelled) task.StopTask();
            });
        if (context.Cancelled)
            context.Console.MarkupLineInterpolated($"[yellow]Stopped by Ctrl+C after {losses.Count} of {iterations} iterations; writing what there is.[/]");
        return losses;
    }

    /// <summary>Runs work that is not a training loop (an evaluation, a sweep) as one progress task of <paramref name="count"/> units.</summary>
    public static int Sweep(RunContext context, string title, int count, Action<int> unit)
    {
        int done = 0;
        context.Console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(progress =>
            {
                var task = progress.AddTask(Markup.Escape(title), maxValue: count);
                for (int i = 0; i < count && !context.Cancelled; i++)
                {
                    unit(i);
                    done++;
                    task.Increment(1);
                }
            });
        return done;
    }

    private static string Describe(string title, double loss, long forward, long backward, double rate) =>
        string.Create(CultureInfo.InvariantCulture, $"{title}  loss {loss,9:G4}  {Evaluations.Format(forward, backward)}  {rate,6:F1} it/s");
}
