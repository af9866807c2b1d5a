using System.Text.Json;
using NeuralOde.Core;
using NeuralOde.Core.Batch;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Solvers;

/// <summary>W5 (Lorenz, t 0 → 20, rtol 1e-8, atol 1e-10): evaluation counts against scipy and torchdiffeq, batches, allocations.</summary>
public class LorenzWorkloadTests
{
    private static readonly SolveOptions W5 = new() { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-10 };

    private static JsonElement Expected() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Data", "peer-fixtures", "w5.json"))).RootElement.GetProperty("expected").Clone();

    [Test]
    public void Batch1_TakesScipyRk45sEvaluationsWithinTenPercent_AndReachesTheReference()
    {
        JsonElement expected = Expected();
        long scipy = expected.GetProperty("scipy_rk45").GetProperty("nfev").GetInt64();
        var sol = Ode.Solve(new LorenzDynamics<double>(), [1.0, 1.0, 1.0], SaveAt.End(0, 20), W5);
        TestContext.Out.WriteLine($"W5 batch 1: NFE {sol.Stats.FunctionEvaluations} (scipy RK45 {scipy}), {sol.Stats}");
        Assert.That(sol.Stats.FunctionEvaluations, Is.EqualTo(scipy).Within(10).Percent);
        double[] reference = [.. expected.GetProperty("reference_y20").EnumerateArray().Select(x => x.GetDouble())];
        // Chaotic: at rtol 1e-8 solvers agree with the reference to 2–3 digits only (scipy's RK45 is 0.02 away).
        for (int i = 0; i < 3; i++) Assert.That(sol.States[0][i], Is.EqualTo(reference[i]).Within(0.1));
    }

    [Test]
    public void Batch1_WithTheTorchdiffeqPreset_IsCloseToTorchdiffeqsCount()
    {
        JsonElement expected = Expected();
        long torch = expected.GetProperty("torchdiffeq_dopri5").GetProperty("nfe").GetInt64();
        var sol = Ode.Solve(new LorenzDynamics<double>(), [1.0, 1.0, 1.0], SaveAt.End(0, 20), SolveOptions.Torchdiffeq(1e-8, 1e-10));
        TestContext.Out.WriteLine($"W5 batch 1, torchdiffeq preset: NFE {sol.Stats.FunctionEvaluations} (torchdiffeq {torch})");
        // Over ~1900 steps of a chaotic solve, round-off alone moves the count by a few steps.
        Assert.That(sol.Stats.FunctionEvaluations, Is.EqualTo(torch).Within(1).Percent);
    }

    [Test]
    public void SharedStepBatch_WithTheTorchdiffeqPreset_IsCloseToTorchdiffeqsCount()
    {
        JsonElement expected = Expected().GetProperty("torchdiffeq_dopri5_b1024");
        var sol = Ode.Solve(new LorenzDynamics<double>(1024), LorenzDynamics<double>.InitialStates(1024), SaveAt.End(0, 20), SolveOptions.Torchdiffeq(1e-8, 1e-10));
        long torch = expected.GetProperty("nfe").GetInt64();
        TestContext.Out.WriteLine($"W5 batch 1024 shared step, torchdiffeq preset: NFE {sol.Stats.FunctionEvaluations} (torchdiffeq {torch})");
        Assert.That(sol.Stats.FunctionEvaluations, Is.EqualTo(torch).Within(2).Percent);
        double[] first = [.. expected.GetProperty("y20_first").EnumerateArray().Select(x => x.GetDouble())];
        for (int i = 0; i < 3; i++) Assert.That(sol.States[0][i], Is.EqualTo(first[i]).Within(0.1));
    }

    [Test]
    public void IndependentSolves_MatchSeparateSolvesBitForBit()
    {
        const int count = 64;
        var solver = new IndependentSolver<double>(() => new LorenzDynamics<double>(), SaveAt.Times(0, 1, 2), W5);
        double[] y0 = LorenzDynamics<double>.InitialStates(count);
        var states = new double[count * 3 * 3];
        var stats = new SolveStats[count];
        solver.Solve(y0, states, stats);
        foreach (int i in new[] { 0, 17, 63 })
        {
            var single = Ode.Solve(new LorenzDynamics<double>(), y0.AsSpan(3 * i, 3), SaveAt.Times(0, 1, 2), W5);
            Assert.That(states.AsSpan(i * 9, 9).ToArray(), Is.EqualTo(single.Values.ToArray()), $"instance {i}");
            Assert.That(stats[i], Is.EqualTo(single.Stats), $"instance {i}");
        }
        // A second call reuses every buffer and gives the same bits.
        var again = new double[states.Length];
        solver.Solve(y0, again, stats);
        Assert.That(again, Is.EqualTo(states));
    }

    [Test]
    public void IndependentSolves_AllocateNothingPerCall_AndSolveStepsAllocateNothing()
    {
        const int count = 16;
        var solver = new IndependentSolver<double>(() => new LorenzDynamics<double>(), SaveAt.End(0, 2), W5);
        double[] y0 = LorenzDynamics<double>.InitialStates(count);
        var states = new double[count * 3];
        var stats = new SolveStats[count];
        solver.Solve(y0, states, stats);
        // Counted over every thread (the workers included); the minimum over a few calls ignores unrelated runtime noise.
        long perCall = long.MaxValue;
        for (int repeat = 0; repeat < 5; repeat++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            solver.Solve(y0, states, stats);
            perCall = Math.Min(perCall, GC.GetTotalAllocatedBytes(precise: true) - before);
        }
        Assert.That(perCall, Is.Zero, "bytes allocated by a warm IndependentSolver.Solve");

        // A whole solve allocates a fixed amount (buffers, result) however many steps it takes.
        var f = new LorenzDynamics<double>();
        Ode.Solve(f, [1.0, 1.0, 1.0], SaveAt.End(0, 1), W5);
        long shortSolve = Measure(() => Ode.Solve(f, [1.0, 1.0, 1.0], SaveAt.End(0, 1), W5));
        long longSolve = Measure(() => Ode.Solve(f, [1.0, 1.0, 1.0], SaveAt.End(0, 20), W5));
        Assert.That(longSolve, Is.EqualTo(shortSolve), "allocations must not grow with the number of steps");
    }

    private static long Measure(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
