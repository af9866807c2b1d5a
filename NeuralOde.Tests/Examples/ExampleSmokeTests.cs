namespace NeuralOde.Tests.Examples;

/// <summary>Each subcommand runs end to end in smoke mode and writes PNGs that decode with the right size.</summary>
[NonParallelizable]
public sealed class ExampleSmokeTests
{
    [TestCase("exact", "backprop")]
    [TestCase("hutchinson", "adjoint")]
    [TestCase("exact", "checkpointed")]
    [TestCase("hutchinson", "reversible")]
    [TestCase("exact", "reversible-rk")]
    public void Cnf_RunsInSmokeModeAndWritesItsPlots(string divergence, string sensitivity)
    {
        using var run = new ExampleRun();
        Assert.That(run.Smoke("cnf", "--divergence", divergence, "--sensitivity", sensitivity), Is.Zero, run.Output);
        Assert.That(run.Output, Does.Contain("held-out negative log-likelihood"));
        run.AssertPng("samples.png");
        run.AssertPng("density.png");
        run.AssertPng("loss.png");
    }

    [Test]
    public void Spiral_RunsInSmokeModeAndWritesItsPlots()
    {
        using var run = new ExampleRun();
        Assert.That(run.Smoke("spiral"), Is.Zero, run.Output);
        run.AssertPng("spiral-trajectories.png");
        run.AssertPng("spiral-phase.png");
        run.AssertPng("spiral-loss.png");
        Assert.That(run.Output, Does.Contain("mean |learned − true|"));
    }

    [Test]
    public void Spiral_WithCheckpointedGradients_RunsInSmokeMode()
    {
        using var run = new ExampleRun();
        Assert.That(run.Smoke("spiral", "--sensitivity", "checkpointed", "--iterations", "2"), Is.Zero, run.Output);
        run.AssertPng("spiral-loss.png");
    }

    [Test]
    public void Cooling_RunsInSmokeModeAndReportsEveryMethodsOrder()
    {
        using var run = new ExampleRun();
        Assert.That(run.Smoke("cooling"), Is.Zero, run.Output);
        run.AssertPng("cooling-order.png", 1200, 750);
        foreach (var method in NeuralOde.Core.Solvers.Tableaus.All) Assert.That(run.Output, Does.Contain(method.Name));
    }

    [Test]
    public void Cooling_ObservedOrderOfRk4IsFour()
    {
        using var run = new ExampleRun();
        Assert.That(run.Invoke("cooling", "--iterations", "7", "--out", run.Folder), Is.Zero, run.Output);
        string rk4 = run.Output.Split('\n').Single(l => l.StartsWith("RK4 ", StringComparison.Ordinal));
        double observed = double.Parse(rk4.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(observed, Is.EqualTo(4).Within(0.3), rk4);
    }

    [Test]
    public void Cooling_IterationsAboveTheMaximum_IsAUsageErrorThatSaysWhy()
    {
        using var run = new ExampleRun();
        int code = run.Invoke("cooling", "--iterations", "17", "--out", run.Folder);
        Assert.That(code, Is.EqualTo(1), run.Output);
        Assert.That(run.Output, Does.Contain("--iterations must be at most 16").And.Contain("round-off"));
    }

    [Test]
    public void Cooling_AtTheMaximumIterations_RunsEveryMethodWithoutAMaxStepsFailure()
    {
        using var run = new ExampleRun();
        Assert.That(run.Invoke("cooling", "--iterations", "16", "--out", run.Folder), Is.Zero, run.Output);
        Assert.That(run.Output, Does.Contain("error at h = 1/32768").And.Not.Contain("MaxSteps"));
    }

    [Test]
    public void LotkaVolterra_RunsInSmokeModeAndPrintsTheParameters()
    {
        using var run = new ExampleRun();
        Assert.That(run.Smoke("lotka-volterra"), Is.Zero, run.Output);
        run.AssertPng("lotka-volterra-fit.png");
        run.AssertPng("lotka-volterra-loss.png");
        Assert.That(run.Output, Does.Contain("recovered"));
    }

    [Test]
    public void LotkaVolterra_Neural_RunsInSmokeMode()
    {
        using var run = new ExampleRun();
        Assert.That(run.Smoke("lotka-volterra", "--neural"), Is.Zero, run.Output);
        run.AssertPng("lotka-volterra-fit.png");
    }

    [Test]
    public void Sir_RunsInSmokeModeAndPrintsBetaAndGamma()
    {
        using var run = new ExampleRun();
        Assert.That(run.Smoke("sir"), Is.Zero, run.Output);
        run.AssertPng("sir-fit.png");
        run.AssertPng("sir-loss.png");
        Assert.That(run.Output, Does.Contain("β").And.Contain("γ"));
    }

    [Test]
    public void Robertson_RunsInSmokeModeAndWritesItsPlots()
    {
        using var run = new ExampleRun();
        Assert.That(run.Smoke("robertson"), Is.Zero, run.Output);
        run.AssertPng("robertson-fit.png");
        run.AssertPng("robertson-loss.png");
        Assert.That(run.Output, Does.Contain("k1").And.Contain("recovered"));
    }

    [Test]
    public void Robertson_RecoversTheThreeRateConstants_WithinTenPercent()
    {
        // The default run (150 iterations, seed 0): 2 % noise, a start off by factors 2.5, 3 and 3.3.
        using var run = new ExampleRun();
        Assert.That(run.Invoke("robertson", "--seed", "0", "--out", run.Folder), Is.Zero, run.Output);
        foreach (string rate in new[] { "k1", "k2", "k3" })
        {
            var line = run.Output.Split('\n').Single(l => l.TrimStart().StartsWith(rate + " ", StringComparison.Ordinal));
            double error = double.Parse(line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1].TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture);
            TestContext.Out.WriteLine(line.Trim());
            Assert.That(Math.Abs(error), Is.LessThan(10), line);
        }
    }

    [Test]
    public void BenchMemory_RunsChildProcessesInSmokeModeAndWritesTableAndPlot()
    {
        using var run = new ExampleRun();
        Assert.That(run.Smoke("bench-memory", "--strategies", "backprop", "checkpointed"), Is.Zero, run.Output);
        run.AssertPng("bench-memory.png");
        string[] csv = File.ReadAllLines(Path.Combine(run.Folder, "bench-memory.csv"));
        Assert.That(csv, Has.Length.EqualTo(1 + 2 * 2), string.Join("\n", csv));
        // Backprop and Checkpointed give the same discrete gradient's loss, to round-off.
        var losses = csv.Skip(1).Select(l => l.Split(',')).GroupBy(f => f[0]).Select(g => g.Select(f => f[4]).Distinct().Count());
        Assert.That(losses, Is.All.EqualTo(1));
    }

    [Test]
    public void BenchMemory_CtrlC_StillWritesTheTableCsvAndPlotWithAStoppedMessage()
    {
        using var run = new ExampleRun();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        int code = run.Invoke(cancelled.Token, "bench-memory", "--smoke", "--strategies", "backprop", "--out", run.Folder);
        Assert.That(code, Is.EqualTo(130), run.Output);
        Assert.That(run.Output, Does.Contain("Stopped by Ctrl+C after 0 of 2 measurements"));
        run.AssertPng("bench-memory.png");
        Assert.That(File.ReadAllLines(Path.Combine(run.Folder, "bench-memory.csv"))[0], Does.StartWith("steps,strategy"));
    }

    [Test]
    public void BenchMemory_MatchesTheBenchmarkRunnersW4Measurement_OneTapeAndNoInputGradient()
    {
        // Adjoint memory is flat: with the warm-up's tape reused, the growth of N = 4 is far below a fresh tape's first chunks (4 MiB).
        using var run = new ExampleRun();
        Assert.That(run.Invoke("bench-memory", "--steps", "4", "--strategies", "adjoint", "--out", run.Folder), Is.Zero, run.Output);
        string[] row = File.ReadAllLines(Path.Combine(run.Folder, "bench-memory.csv"))[1].Split(',');
        double growth = double.Parse(row[2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(growth, Is.LessThan(2.0), string.Join(",", row));
        Assert.That(run.Output, Does.Contain("499.26"), "the output says why its loss differs from the README's");
    }

    [Test]
    public void NoArguments_RunsTheDefaultExampleAndSaysSo()
    {
        using var run = new ExampleRun();
        string previous = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(run.Folder);
        try
        {
            using var cancelled = new CancellationTokenSource();
            cancelled.Cancel();
            int code = run.Invoke(cancelled.Token);
            Assert.That(run.Output, Does.Contain("No command given: running `cnf`"));
            Assert.That(code, Is.EqualTo(130), "a cancelled run reports the interrupt");
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
        }
    }

    [Test]
    public void CtrlC_StopsTrainingCleanlyAndStillWritesThePlots()
    {
        using var run = new ExampleRun();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        int code = run.Invoke(cancelled.Token, "sir", "--out", run.Folder);
        Assert.That(code, Is.EqualTo(130), run.Output);
        Assert.That(run.Output, Does.Contain("Stopped by Ctrl+C"));
        run.AssertPng("sir-fit.png");
        run.AssertPng("sir-loss.png");
    }
}
