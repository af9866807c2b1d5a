using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace NeuralOde.Examples.App;

/// <summary>One training iteration's report: its loss and the function evaluations of its forward and backward solves.</summary>
internal readonly record struct IterationReport(double Loss, long ForwardEvaluations, long BackwardEvaluations);

internal static class Evaluations
{
    /// <summary>The backward sweep's work in evaluations of f: re-evaluations (checkpointing) plus vector–Jacobian products.</summary>
    public static long Backward<T>(NeuralOde.Core.OdeSolveNode<T> solve)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        solve.BackwardStats is { } b ? b.FunctionEvaluations + b.VectorJacobianProducts : 0;
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
        string.Create(CultureInfo.InvariantCulture, $"{title}  loss {loss,9:G4}  NFE {forward}+{backward}  {rate,6:F1} it/s");
}
