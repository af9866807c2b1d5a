using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Solvers;
using NeuralOde.Tests.Support;

namespace NeuralOde.Benchmarks.Stiff;

/// <summary>
/// <c>stiff [--quick] [--python PATH]</c>: the work–precision table of the stiff problems (Data/stiffproblems.json) for
/// every Rosenbrock and ESDIRK method at rtol 1e-4 … 1e-10 (atol = 1e-4·rtol), beside scipy's Radau, BDF and LSODA
/// measured in the same run by scipy_work_precision.py (analytic Jacobians: scipy's best case). Work is evaluations of
/// f plus D × Jacobian evaluations (ours are forward differences, so their columns are already in the evaluations).
/// Error is max_i |y_i(t1) − ref_i|. Wall time: median of the repeats.
/// </summary>
internal static class StiffWorkPrecision
{
    private static readonly string[] ProblemNames = ["rober", "hires", "vdpolm", "stiff_linear4", "prothero_robinson"];

    private static readonly (string Name, IStepperFactory Method)[] Methods =
    [
        ("Rodas5P", new Rosenbrock(RosenbrockTableaus.Rodas5P)),
        ("Rodas4", new Rosenbrock(RosenbrockTableaus.Rodas4)),
        ("Rosenbrock23", new Rosenbrock23()),
        ("Kvaerno5", new Esdirk(EsdirkTableaus.Kvaerno5)),
        ("Kvaerno4", new Esdirk(EsdirkTableaus.Kvaerno4)),
        ("TR-BDF2", new Esdirk(EsdirkTableaus.TrBdf2)),
        ("Kvaerno3", new Esdirk(EsdirkTableaus.Kvaerno3)),
    ];

    private sealed record Measured(string Problem, string Method, double Rtol, double Units, double Error, long Work, long Lus, int Steps, double Seconds, bool Ours);

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        int repeats = quick ? 1 : 5;
        string python = ValueOf(args, "--python") ?? (File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
        double[] rtols = [1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10];
        Console.WriteLine($"# Stiff work–precision, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {RuntimeInfo()}");
        var runs = new List<Measured>();
        foreach (string name in ProblemNames)
        {
            var (t1, y0, reference) = StiffProblems.Problem(name);
            // Declared autonomous where they are (all but Prothero–Robinson), as a user who knows would: the Rosenbrock
            // methods then skip their difference in t (scipy's methods need no ∂f/∂t at all).
            var f = new FunctionDynamics<double>(y0.Length, StiffProblems.Functions[name]) { IsAutonomous = name != "prothero_robinson" };
            foreach (var (methodName, method) in Methods)
            {
                foreach (double rtol in rtols)
                {
                    var options = new SolveOptions { Stepper = method, RelativeTolerance = rtol, AbsoluteTolerance = 1e-4 * rtol, MaxSteps = 1_000_000 };
                    OdeSolution<double>? sol = null;
                    var seconds = new double[repeats];
                    for (int r = 0; r < repeats; r++)
                    {
                        long start = Stopwatch.GetTimestamp();
                        sol = Ode.Solve(f, y0, SaveAt.End(0, t1), options);
                        seconds[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
                    }
                    ReadOnlySpan<double> y = sol!.States[^1];
                    runs.Add(new Measured(name, methodName, rtol, StiffProblems.ToleranceUnits(y, reference, rtol, 1e-4 * rtol),
                        StiffProblems.ToleranceUnits(y, reference, 0, 1), sol.Stats.FunctionEvaluations, sol.Stats.Factorizations,
                        sol.Stats.AcceptedSteps, Median(seconds), true));
                }
            }
        }
        runs.AddRange(Scipy(python, rtols, repeats));
        Print(runs);
        return 0;
    }

    private static IEnumerable<Measured> Scipy(string python, double[] rtols, int repeats)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Stiff", "scipy_work_precision.py");
        string problems = Path.Combine(AppContext.BaseDirectory, "Data", "stiffproblems.json");
        var info = new ProcessStartInfo(python, [script, problems, string.Join(",", rtols.Select(r => r.ToString("R", CultureInfo.InvariantCulture))), repeats.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var list = new List<Measured>();
        try
        {
            using var process = Process.Start(info)!;
            string output = process.StandardOutput.ReadToEnd();
            string errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                Console.WriteLine($"scipy not measured: {python} exited with {process.ExitCode}: {errors.Trim().Split('\n').LastOrDefault()}");
                return list;
            }
            foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                using var doc = JsonDocument.Parse(line);
                var e = doc.RootElement;
                if (!e.GetProperty("success").GetBoolean()) continue;
                string name = e.GetProperty("problem").GetString()!;
                double rtol = e.GetProperty("rtol").GetDouble();
                double units = e.GetProperty("units").GetDouble();
                long work = e.GetProperty("nfev").GetInt64() + e.GetProperty("dim").GetInt64() * e.GetProperty("njev").GetInt64();
                list.Add(new Measured(name, "scipy " + e.GetProperty("method").GetString(), rtol, units, e.GetProperty("abs_error").GetDouble(), work,
                    e.GetProperty("nlu").GetInt64(), e.GetProperty("steps").GetInt32(), e.GetProperty("seconds").GetDouble(), false));
            }
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Console.WriteLine($"scipy not measured: cannot start {python} ({ex.Message})");
        }
        return list;
    }

    private static void Print(List<Measured> runs)
    {
        foreach (string name in ProblemNames)
        {
            Console.WriteLine();
            Console.WriteLine($"## {name}");
            Console.WriteLine("| method | rtol | error (tol. units) | max abs error | work (f + D·J) | LUs | steps | median s |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            foreach (var r in runs.Where(r => r.Problem == name))
                Console.WriteLine($"| {r.Method} | {r.Rtol:G1} | {r.Units:G3} | {r.Error:G3} | {r.Work} | {r.Lus} | {r.Steps} | {r.Seconds:G3} |");
            // At each accuracy one of scipy's runs reached: our cheapest run at least as accurate, against scipy's cheapest.
            var scipy = runs.Where(r => r.Problem == name && !r.Ours).ToList();
            var ours = runs.Where(r => r.Problem == name && r.Ours).ToList();
            if (scipy.Count == 0) continue;
            Console.WriteLine();
            Console.WriteLine("| scipy's accuracy | scipy's least work (method) | our least work (method, rtol) | work ratio ours/scipy | scipy's fastest s | our fastest s | time ratio scipy/ours |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            foreach (double target in scipy.Select(r => r.Error).Distinct().Order())
            {
                var theirs = scipy.Where(r => r.Error <= target).ToList();
                var mine = ours.Where(r => r.Error <= target).ToList();
                var theirBest = theirs.MinBy(r => r.Work)!;
                var theirFastest = theirs.MinBy(r => r.Seconds)!;
                if (mine.Count == 0)
                {
                    Console.WriteLine($"| {target:G3} | {theirBest.Work} ({theirBest.Method}) | none reached it | — | {theirFastest.Seconds:G3} | — | — |");
                    continue;
                }
                var myBest = mine.MinBy(r => r.Work)!;
                var myFastest = mine.MinBy(r => r.Seconds)!;
                Console.WriteLine($"| {target:G3} | {theirBest.Work} ({theirBest.Method}) | {myBest.Work} ({myBest.Method}, {myBest.Rtol:G1}) | {(double)myBest.Work / theirBest.Work:F2} | {theirFastest.Seconds:G3} | {myFastest.Seconds:G3} | {theirFastest.Seconds / myFastest.Seconds:F0}× |");
            }
        }
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }

    private static string RuntimeInfo() =>
        $"{System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}";

    private static string? ValueOf(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
