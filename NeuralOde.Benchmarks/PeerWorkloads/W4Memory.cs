using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Benchmarks.PeerWorkloads;

/// <summary>
/// W4: memory and time of one forward + backward through N fixed 3/8-rule RK4 steps of the 2→64→64→2 tanh net at
/// batch 256 (fixture weights and y0), loss sum(y(1)²), for each gradient strategy. Each (N, strategy) runs in a fresh
/// child process, as the peer does: after a warm-up solve with N = 1 it reads VmRSS, runs the timed forward + backward
/// and reads VmHWM; growth = VmHWM − VmRSS.
/// </summary>
internal sealed class W4Memory : IPeerWorkload
{
    public const string ChildCommand = "peer-w4-child";

    public string Name => "W4";

    /// <summary>The strategies and their step counts (Backprop only up to N = 1000, as the peer).</summary>
    internal static IEnumerable<(string Mode, int Steps)> Cases(bool quick)
    {
        int[] all = quick ? [10, 100, 1000] : [10, 100, 1000, 10000];
        foreach (int n in all.Where(n => n <= 1000)) yield return ("backprop", n);
        foreach (string mode in StrategyNames.Where(m => m != "backprop"))
        {
            foreach (int n in all) yield return (mode, n);
        }
    }

    internal static readonly string[] StrategyNames = ["backprop", "adjoint", "checkpointed", "checkpointed-budget128", "reversible", "reversible-rk"];

    internal static ISensitivity Strategy(string mode) => mode switch
    {
        "backprop" => new Backprop(),
        "checkpointed" => new Checkpointed(),
        "checkpointed-budget128" => new Checkpointed { Budget = 128 },
        "adjoint" => new Adjoint(),
        "reversible" => new Reversible(),
        "reversible-rk" => new ReversibleRungeKutta(),
        _ => throw new ArgumentException($"Unknown W4 mode '{mode}'. Known: {string.Join(", ", StrategyNames)}.", nameof(mode)),
    };

    public IEnumerable<PeerResult> Run(bool quick) => Run(Cases(quick), quick);

    /// <summary>Parses <c>mode:N,mode:N</c> (e.g. <c>checkpointed-budget128:10,checkpointed-budget128:10000</c>).</summary>
    /// <exception cref="ArgumentException">A case is not mode:N with a known mode and N ≥ 1.</exception>
    internal static List<(string Mode, int Steps)> ParseCases(string text)
    {
        var cases = new List<(string, int)>();
        foreach (string item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] parts = item.Split(':');
            if (parts.Length != 2 || !StrategyNames.Contains(parts[0]) || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int n) || n < 1)
                throw new ArgumentException($"A W4 case is mode:N with mode one of {string.Join(", ", StrategyNames)} and N ≥ 1, got '{item}'.", nameof(text));
            cases.Add((parts[0], n));
        }
        return cases;
    }

    /// <summary>Measures the given cases, each in <c>quick ? 1 : 5</c> fresh processes (the median growth is reported).</summary>
    internal IEnumerable<PeerResult> Run(IEnumerable<(string Mode, int Steps)> cases, bool quick)
    {
        int processes = quick ? 1 : 5;
        foreach (var (mode, steps) in cases)
        {
            var runs = Enumerable.Range(0, processes).Select(_ => RunChild(mode, steps)).ToList();
            yield return new PeerResult
            {
                Workload = Name,
                Mode = $"{mode} N={steps}",
                Unit = "fwd+bwd",
                Seconds = Timing.Of([.. runs.Select(r => r.Seconds)]),
                NfeF = runs[0].NfeF,
                NfeB = runs[0].NfeB,
                PeakMemoryBytes = runs.Select(r => r.GrowthBytes).Order().ElementAt(runs.Count / 2),
                FixedWork = new FixedWork(runs[0].Loss, runs[0].GradNorm, runs[0].NfeF, runs[0].NfeB, Timing.Of([.. runs.Select(r => r.Seconds)])),
                PeerSeconds = steps == 1000 ? mode switch { "backprop" => 2.09, "adjoint" => 3.13, _ => null } : null,
            };
        }
    }

    private sealed record ChildResult(double Seconds, long GrowthBytes, double Loss, double GradNorm, long NfeF, long NfeB, long TapeBytes, long AllocatedBytes);

    private static ChildResult RunChild(string mode, int steps)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // Fully optimised code from the first call: with tiered compilation, the long timed run is where loops get
        // recompiled (on-stack replacement), and that code-heap growth would be charged to the strategy.
        start.Environment["DOTNET_TieredCompilation"] = "0";
        string assembly = typeof(W4Memory).Assembly.Location;
        if (!Environment.ProcessPath!.EndsWith("NeuralOde.Benchmarks", StringComparison.Ordinal)) start.ArgumentList.Add(assembly);
        start.ArgumentList.Add(ChildCommand);
        start.ArgumentList.Add(mode);
        start.ArgumentList.Add(steps.ToString(CultureInfo.InvariantCulture));
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"The W4 child ({mode}, N={steps}) failed with exit code {process.ExitCode}: {output}");
        return JsonSerializer.Deserialize<ChildResult>(output.Trim().Split('\n')[^1])!;
    }

    /// <summary>The child process: one measured forward + backward; prints one JSON line.</summary>
    public static int RunAsChild(string mode, int steps)
    {
        var fixture = FixtureFile.Load("w4");
        var network = Mlp.Create<float>(2, [64, 64], 2, Activation.Tanh, TimeInput.None, seed: 0);
        fixture.LoadInto(network.Parameters);
        var f = new MlpDynamics<float>(network, 256);
        var y0 = fixture.Array<float>("y0");
        var sensitivity = Strategy(mode);
        var tape = new Tape<float>();

        (double Loss, OdeSolveNode<float> Node) ForwardBackward(int n)
        {
            tape.Reset();
            network.Parameters.ZeroGradients();
            // Reversible runs its own solver (reversible Heun, second order) on the same grid: compare memory and time only.
            var options = mode == "reversible"
                ? new SolveOptions { StepSize = new FixedStep(1.0 / n) }
                : new SolveOptions { Method = Tableaus.ThreeEighths, StepSize = new FixedStep(1.0 / n) };
            var solve = OdeLayer.Solve(tape, f, tape.Constant(y0, new Shape(256, 2)), SaveAt.End(0, 1), options, sensitivity);
            var loss = Ops.Sum(Ops.Square(solve.Final));
            tape.Backward(loss);
            return (loss.Value[0], solve);
        }

        // Warm-up, as the peer: one solve with N = 1 (the parent starts this process with tiered compilation off).
        ForwardBackward(1);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = ReadStatus("VmRSS");
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        long clock = Stopwatch.GetTimestamp();
        var (lossValue, node) = ForwardBackward(steps);
        double seconds = Stopwatch.GetElapsedTime(clock).TotalSeconds;
        long peak = ReadStatus("VmHWM");
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        double norm = Math.Sqrt(network.Parameters.Gradients.ToArray().Sum(g => (double)g * g));
        var result = new ChildResult(seconds, peak - before, lossValue, norm, node.ForwardStats.FunctionEvaluations, node.BackwardStats?.FunctionEvaluations ?? 0, tape.BytesReserved, allocated);
        Console.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }

    /// <summary>A /proc/self/status field in bytes (kB in the file).</summary>
    private static long ReadStatus(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
            return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"/proc/self/status has no {field}.");
    }
}
