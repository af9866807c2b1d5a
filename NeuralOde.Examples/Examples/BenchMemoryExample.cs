using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Optim;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Examples.App;
using NeuralOde.Examples.Plotting;
using Spectre.Console;

namespace NeuralOde.Examples.Examples;

/// <summary>
/// Workload W4: memory and time of one forward + backward through N fixed steps of the 3/8-rule RK4 on [0, 1], for
/// each gradient strategy. The net is Linear(2, 64) → tanh → Linear(64, 64) → tanh → Linear(64, 2), the batch 256
/// (float32) and the loss sum(y(1)²). Each (N, strategy) runs in a fresh child process, which warms up with N = 1, reads
/// VmRSS, runs the timed solve and gradient, then reads VmHWM: peak RSS growth = VmHWM − VmRSS (from /proc/self/status).
/// </summary>
internal static class BenchMemoryExample
{
    private const int Batch = 256, Width = 64;
    private const string ResultPrefix = "W4RESULT";

    /// <summary>The strategies by name (Reversible runs its own reversible Heun solver on the same grid; reversible-rk wraps the same 3/8-rule RK4, two base steps a step).</summary>
    private static readonly Dictionary<string, Func<int, ISensitivity>> Strategies = new(StringComparer.Ordinal)
    {
        ["backprop"] = _ => new Backprop(),
        ["checkpointed"] = _ => new Checkpointed(),
        ["checkpointed-budget"] = budget => new Checkpointed { Budget = budget },
        ["adjoint"] = _ => new Adjoint(),
        ["reversible"] = _ => new Reversible(),
        ["reversible-rk"] = _ => new ReversibleRungeKutta(),
    };

    public static Command Command(AppEnvironment environment)
    {
        var common = new CommonOptions("Repeats (fresh processes) per row; the table shows the median (default 1; smoke 1).");
        var steps = new Option<int[]>("--steps") { Description = "Step counts N (default 10 100 1000; smoke 2 4).", AllowMultipleArgumentsPerToken = true };
        steps.Validators.Add(r =>
        {
            if (!App.Options.TryGetValue<int[]>(r, out var values)) return;
            foreach (int n in values ?? []) if (n < 1) r.AddError($"--steps must all be at least 1, got {n}.");
        });
        var strategies = new Option<string[]>("--strategies") { Description = $"Strategies to measure: {string.Join(", ", Strategies.Keys)} (default all).", AllowMultipleArgumentsPerToken = true };
        strategies.AcceptOnlyFromAmong([.. Strategies.Keys]);
        var budget = Options.Positive("--budget", "Checkpoints kept by checkpointed-budget.", 64);
        var child = new Option<string?>("--child") { Description = "Internal: run one measurement as N:strategy and print it.", Hidden = true };
        var command = new Command("bench-memory", "Peak memory and time of one gradient through N RK4 steps (workload W4), per gradient strategy; a log-log plot of memory against steps.");
        common.AddTo(command);
        command.Options.Add(steps);
        command.Options.Add(strategies);
        command.Options.Add(budget);
        command.Options.Add(child);
        command.SetAction(result => ExampleApp.Guard(environment, () =>
        {
            var context = common.Bind(result, environment, writesOutputs: result.GetValue(child) is null);
            if (result.GetValue(child) is { } spec) return RunChild(environment, context.Seed, spec, result.GetValue(budget));
            int[] n = result.GetValue(steps) is { Length: > 0 } s ? s : context.Smoke ? [2, 4] : [10, 100, 1000];
            string[] names = result.GetValue(strategies) is { Length: > 0 } st ? st : [.. Strategies.Keys];
            return Run(context, n, names, result.GetValue(budget));
        }));
        return command;
    }

    private readonly record struct Measurement(int Steps, string Strategy, double GrowthMiB, double Seconds, double Loss, long ForwardEvaluations, long BackwardEvaluations);

    public static int Run(RunContext context, int[] steps, string[] strategies, int budget)
    {
        if (!File.Exists("/proc/self/status")) throw new ExampleException("bench-memory reads /proc/self/status and so runs on Linux only.");
        int repeats = context.IterationsOr(1, 1);
        var rows = new List<Measurement>();
        var jobs = (from n in steps from s in strategies select (n, s)).ToArray();
        context.Line($"bench-memory (W4): batch {Batch}, 2 → {Width} → {Width} → 2 tanh, 3/8-rule RK4 with N fixed steps on [0, 1], loss sum(y(1)²); one fresh process per measurement, {repeats} per row");
        context.Line("The same measurement as the benchmark runner's W4 (README): it loads the peer's fixture weights and y0 (loss 499.26),");
        context.Line("this command draws its own from --seed, so the losses differ while memory, time and NFE are comparable.");
        TrainingLoop.Sweep(context, "bench-memory", jobs.Length, j =>
        {
            var (n, strategy) = jobs[j];
            var runs = new List<Measurement>();
            for (int r = 0; r < repeats && !context.Cancelled; r++)
            {
                if (Spawn(context, n, strategy, budget) is { } measured) runs.Add(measured);
            }
            if (runs.Count > 0) rows.Add(runs.OrderBy(m => m.GrowthMiB).ToList()[runs.Count / 2]);
        });
        if (context.Cancelled)
            context.Console.MarkupLineInterpolated($"[yellow]Stopped by Ctrl+C after {rows.Count} of {jobs.Length} measurements; writing what there is.[/]");

        var table = new Table().AddColumns("N", "strategy", "peak RSS growth MiB", "fwd+bwd s", "loss", "NFE-F", "NFE-B");
        foreach (var r in rows)
        {
            table.AddRow(
                r.Steps.ToString(CultureInfo.InvariantCulture), r.Strategy,
                r.GrowthMiB.ToString("F1", CultureInfo.InvariantCulture), r.Seconds.ToString("F3", CultureInfo.InvariantCulture),
                r.Loss.ToString("F4", CultureInfo.InvariantCulture), r.ForwardEvaluations.ToString(CultureInfo.InvariantCulture), r.BackwardEvaluations.ToString(CultureInfo.InvariantCulture));
        }
        context.Console.Write(table);

        string csv = context.OutputPath("bench-memory.csv");
        File.WriteAllLines(csv, ["steps,strategy,peak_rss_growth_mib,seconds,loss,nfe_forward,nfe_backward",
            .. rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Steps},{r.Strategy},{r.GrowthMiB:F3},{r.Seconds:F4},{r.Loss:R},{r.ForwardEvaluations},{r.BackwardEvaluations}"))]);
        var plot = Charts.New("W4: peak RSS growth of one gradient against RK4 steps", "steps N", "peak RSS growth (MiB)");
        var logSteps = new List<double>();
        var logGrowth = new List<double>();
        ScottPlot.MarkerShape[] markers = [ScottPlot.MarkerShape.FilledCircle, ScottPlot.MarkerShape.FilledSquare, ScottPlot.MarkerShape.FilledTriangleUp,
            ScottPlot.MarkerShape.FilledDiamond, ScottPlot.MarkerShape.OpenCircle, ScottPlot.MarkerShape.OpenSquare];
        int index = 0;
        foreach (var group in rows.GroupBy(r => r.Strategy))
        {
            var points = group.OrderBy(r => r.Steps).ToArray();
            double[] xs = Charts.Log10(points.Select(p => (double)p.Steps)), ys = Charts.Log10(points.Select(p => Math.Max(p.GrowthMiB, 0.01)));
            logSteps.AddRange(xs);
            logGrowth.AddRange(ys);
            // Flat strategies land on the same few values: distinct markers and dashes keep each one visible.
            var series = plot.Add.ScatterLine(xs, ys);
            series.LegendText = group.Key;
            series.LineWidth = 2;
            series.MarkerShape = markers[index % markers.Length];
            series.MarkerSize = 7 + 3 * (index % 2);
            if (index % 2 == 1) series.LinePattern = ScottPlot.LinePattern.Dashed;
            index++;
        }
        Charts.LogTicks(plot.Axes.Bottom, logSteps);
        Charts.LogTicks(plot.Axes.Left, logGrowth);
        plot.Legend.Alignment = ScottPlot.Alignment.UpperLeft;
        context.Wrote(csv, Charts.Save(plot, context.OutputPath("bench-memory.png")));
        return ExitCodes.Success;
    }

    /// <summary>One measurement in a fresh child process; null when Ctrl+C (which the terminal also sends to the child) stopped it first.</summary>
    private static Measurement? Spawn(RunContext context, int steps, string strategy, int budget)
    {
        var (host, prefix) = SelfCommand();
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in prefix) start.ArgumentList.Add(a);
        foreach (string a in new[] { "bench-memory", "--child", $"{steps}:{strategy}", "--budget", budget.ToString(CultureInfo.InvariantCulture), "--seed", context.Seed.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        start.Environment["DOTNET_gcServer"] = "0";
        // Fully optimised code from the first call: one timed solve would otherwise run largely in tier-0 code.
        start.Environment["DOTNET_TieredCompilation"] = "0";
        using var process = Process.Start(start) ?? throw new ExampleException($"Could not start '{host}'.");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string? line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith(ResultPrefix, StringComparison.Ordinal));
        if (line is null && context.Cancelled) return null;
        // A child that finished its measurement and then saw the terminal's Ctrl+C exits with 130: its result stands.
        if ((process.ExitCode != 0 && !(context.Cancelled && process.ExitCode == ExitCodes.Cancelled)) || line is null)
            throw new ExampleException($"The measurement of N = {steps}, {strategy} failed (exit {process.ExitCode}): {stdout.Trim()} {stderr.Result.Trim()}");
        string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new Measurement(steps, strategy, Parse(f[1]), Parse(f[2]), Parse(f[3]), (long)Parse(f[4]), (long)Parse(f[5]));
    }

    private static double Parse(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>How to start this app again: its own executable, or the dotnet host with this assembly (also from a test host).</summary>
    private static (string Host, string[] Prefix) SelfCommand()
    {
        string assembly = typeof(Program).Assembly.Location;
        string? process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == Path.GetFileNameWithoutExtension(assembly)) return (process, []);
        string host = process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? process
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        return (host, [assembly]);
    }

    /// <summary>One measurement in this (fresh) process; prints one result line.</summary>
    private static int RunChild(AppEnvironment environment, int seed, string spec, int budget)
    {
        string[] parts = spec.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int steps) || steps < 1 || !Strategies.TryGetValue(parts[1], out var create))
            throw new ExampleException($"--child expects N:strategy, got '{spec}'.", ExitCodes.Usage);
        var network = Mlp.Create<float>(2, [Width, Width], 2, Activation.Tanh, TimeInput.None, seed);
        var f = new MlpDynamics<float>(network, Batch);
        var random = new Random(seed + 1);
        var y0 = new float[Batch * 2];
        for (int i = 0; i < y0.Length; i++) y0[i] = (float)LotkaVolterraExample.Gaussian(random);
        var sensitivity = create(budget);

        // As the benchmark runner's W4: one tape for the warm-up (N = 1) and the measured solve, so the growth is the
        // measured solve's own (a second, fresh tape would add its first arena chunks, about 4 MiB).
        var tape = new Tape<float>();
        _ = Gradient(tape, f, y0, 1, sensitivity);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = ReadStatusKiB("VmRSS");
        var clock = Stopwatch.StartNew();
        var (loss, forward, backward) = Gradient(tape, f, y0, steps, sensitivity);
        double seconds = clock.Elapsed.TotalSeconds;
        long peak = ReadStatusKiB("VmHWM");
        environment.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ResultPrefix} {(peak - before) / 1024.0:F3} {seconds:F5} {loss:R} {forward} {backward}"));
        return ExitCodes.Success;
    }

    private static (double Loss, long Forward, long Backward) Gradient(Tape<float> tape, MlpDynamics<float> f, float[] y0, int steps, ISensitivity sensitivity)
    {
        tape.Reset();
        var options = sensitivity is Reversible
            ? new SolveOptions { StepSize = new FixedStep(1.0 / steps) }
            : new SolveOptions { Method = Tableaus.ThreeEighths, StepSize = new FixedStep(1.0 / steps) };
        var solve = OdeLayer.Solve(tape, f, tape.Constant(y0, new Shape(Batch, 2)), SaveAt.End(0, 1), options, sensitivity);
        var loss = Ops.Sum(Ops.Square(solve.Final));
        f.Parameters.ZeroGradients();
        tape.Backward(loss);
        return (loss.Value[0], solve.ForwardStats.FunctionEvaluations, solve.BackwardEvaluations);
    }

    private static long ReadStatusKiB(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        throw new InvalidDataException($"/proc/self/status has no {field} line.");
    }
}
