using NeuralOde.Core.Data;

namespace NeuralOde.Tests.Examples;

/// <summary>classify on small IDX files written here (gzip and plain), the missing-data hint, and usage errors.</summary>
[NonParallelizable]
public sealed class ClassifyAndUsageTests
{
    [TestCase(true)]
    [TestCase(false)]
    public void Classify_RunsOnSmallIdxFiles(bool gzip)
    {
        using var run = new ExampleRun();
        string data = Path.Combine(run.Folder, "data");
        IdxWriter.WriteDataset(data, train: 96, test: 40, gzip);
        Assert.That(run.Smoke("classify", "--data", data, "--batch", "32"), Is.Zero, run.Output);
        Assert.That(run.Output, Does.Contain("96 training and 40 test images").And.Contain("test accuracy"));
        run.AssertPng("classify-loss.png");
        run.AssertPng("classify-accuracy.png");
    }

    [Test]
    public void Classify_CtrlCDuringTheDataLoad_StopsAtOnceWithAStoppedMessage()
    {
        using var run = new ExampleRun();
        string data = Path.Combine(run.Folder, "data");
        IdxWriter.WriteDataset(data, train: 96, test: 40, gzip: true);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        int code = run.Invoke(cancelled.Token, "classify", "--data", data, "--batch", "32", "--out", run.Folder);
        Assert.That(code, Is.EqualTo(130), run.Output);
        Assert.That(run.Output, Does.Contain("Stopped by Ctrl+C while loading the data"));
        Assert.That(run.Output, Does.Not.Contain("epoch 1"), "no training after the stop");
    }

    [Test]
    public void ZcaWhitening_CancelledToken_ThrowsBeforeTheCovarianceIsComputed()
    {
        var train = new float[8 * 3];
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => NeuralOde.Examples.Examples.ZcaWhitening.Apply(train, 3, 0.1, cancelled.Token, train));
    }

    [Test]
    public void Classify_MissingDataFolder_PrintsTheInstallHintAndFails()
    {
        using var run = new ExampleRun();
        int code = run.Invoke("classify", "--data", Path.Combine(run.Folder, "nowhere"), "--out", run.Folder);
        Assert.That(code, Is.Not.Zero);
        Assert.That(run.Output, Does.Contain("apt-get install dataset-fashion-mnist"));
        Assert.That(run.Output, Does.Not.Contain("   at "), "no stack trace");
    }

    [TestCase("spiral", "--iterations", "0")]
    [TestCase("spiral", "--iterations", "many")]
    [TestCase("spiral", "--bogus")]
    [TestCase("spiral", "--sensitivity", "magic")]
    [TestCase("no-such-command")]
    [TestCase("classify", "--batch", "-3")]
    [TestCase("classify", "--epochs", "three")]
    [TestCase("bench-memory", "--strategies", "telepathy")]
    public void BadOptions_PrintTheErrorAndOneLinePointingAtHelp_NotTheWholeHelpOrAStackTrace(params string[] args)
    {
        using var run = new ExampleRun();
        int code = run.Invoke([.. args, "--out", run.Folder]);
        string[] lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(code, Is.EqualTo(1), run.Output);
        Assert.That(lines[0], Does.StartWith("error:"), run.Output);
        Assert.That(lines[^1], Does.Contain("--help"), run.Output);
        Assert.That(lines, Has.Length.LessThanOrEqualTo(3), run.Output);
        Assert.That(run.Output, Does.Not.Contain("   at "), "no stack trace");
        Assert.That(run.Output, Does.Not.Contain("System."), "no .NET type names");
        Assert.That(run.Output, Does.Not.Contain("Options:"), "not the whole help");
    }

    [Test]
    public void UnknownCommand_NamesItAndListsTheCommands()
    {
        using var run = new ExampleRun();
        Assert.That(run.Invoke("no-such-command"), Is.EqualTo(1));
        Assert.That(run.Output, Does.Contain("unknown command 'no-such-command'").And.Contain("cnf, spiral"));
        Assert.That(run.Output, Does.Not.Contain("Required command"));
    }

    [Test]
    public void NonNumericIterations_SaysAWholeNumberIsExpected()
    {
        using var run = new ExampleRun();
        Assert.That(run.Invoke("sir", "--iterations", "abc", "--out", run.Folder), Is.EqualTo(1));
        Assert.That(run.Output, Does.Contain("'abc'").And.Contain("--iterations").And.Contain("whole number"));
    }

    [Test]
    public void UnwritableOut_FailsBeforeAnyWorkWithAMessageNamingTheFolder()
    {
        using var run = new ExampleRun();
        string file = Path.Combine(run.Folder, "a-file");
        File.WriteAllText(file, "not a folder");
        string below = Path.Combine(file, "plots");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int code = run.Invoke("spiral", "--out", below);   // a full spiral run would take seconds; the check must come first
        Assert.That(code, Is.EqualTo(1), run.Output);
        Assert.That(run.Output, Does.Contain("--out " + below).And.Contain("Nothing was run"));
        Assert.That(run.Output, Does.Not.Contain("spiral  loss").And.Not.Contain("wrote"), "no training, no outputs");
        Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(5));
    }

    [Test]
    public void OutNamingAFile_IsRefusedBeforeAnyWork()
    {
        using var run = new ExampleRun();
        string file = Path.Combine(run.Folder, "a-file");
        File.WriteAllText(file, "not a folder");
        Assert.That(run.Invoke("cooling", "--out", file), Is.EqualTo(1), run.Output);
        Assert.That(run.Output, Does.Contain("is a file, not a folder"));
        Assert.That(run.Output, Does.Not.Contain("Euler"), "no method was run");
    }

    [TestCase("spiral")]
    [TestCase("cooling")]
    [TestCase("lotka-volterra")]
    [TestCase("sir")]
    [TestCase("classify")]
    [TestCase("bench-memory")]
    public void EachCommand_HasHelpWithTheSharedOptions(string command)
    {
        using var run = new ExampleRun();
        Assert.That(run.Invoke(command, "--help"), Is.Zero);
        Assert.That(run.Output, Does.Contain("--seed").And.Contain("--out").And.Contain("--iterations"));
    }

    [Test]
    public void IdxReader_ReadsGzipAndPlainAlike()
    {
        using var run = new ExampleRun();
        byte[] data = [.. Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 7))];
        string plain = Path.Combine(run.Folder, "a.idx"), gzip = Path.Combine(run.Folder, "a.idx.gz");
        IdxWriter.Write(plain, [2, 3, 4], data, gzip: false);
        IdxWriter.Write(gzip, [2, 3, 4], data, gzip: true);
        foreach (string path in new[] { plain, gzip })
        {
            var array = IdxReader.Read(path);
            Assert.That(array.Dimensions, Is.EqualTo(new[] { 2, 3, 4 }));
            Assert.That(array.Count, Is.EqualTo(2));
            Assert.That(array.ItemLength, Is.EqualTo(12));
            Assert.That(array.Data, Is.EqualTo(data));
        }
    }

    [Test]
    public void IdxReader_ThrowsForTruncatedDataAndForeignFiles()
    {
        using var run = new ExampleRun();
        string truncated = Path.Combine(run.Folder, "t.idx"), foreign = Path.Combine(run.Folder, "f.idx");
        IdxWriter.Write(truncated, [10, 28, 28], new byte[100], gzip: true);
        File.WriteAllBytes(foreign, [0x89, 0x50, 0x4E, 0x47, 0, 0, 0, 0]);
        Assert.That(() => IdxReader.Read(truncated), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("ends early"));
        Assert.That(() => IdxReader.Read(foreign), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("not an IDX file"));
        Assert.That(() => IdxReader.Read(Path.Combine(run.Folder, "missing.idx")), Throws.InstanceOf<FileNotFoundException>());
    }

    [Test]
    public void Trajectories_StartAtTheInitialStateAndConserveLotkaVolterrasInvariant()
    {
        var p = new LotkaVolterraParameters(1.5, 1.0, 1.0, 3.0);
        double[] times = Trajectories.Linspace(0, 10, 51);
        double[] states = Trajectories.LotkaVolterra(p, (1, 1), times);
        Assert.That(states[..2], Is.EqualTo(new[] { 1.0, 1.0 }));
        static double Invariant(LotkaVolterraParameters p, double x, double y) => p.Delta * x - p.Gamma * Math.Log(x) + p.Beta * y - p.Alpha * Math.Log(y);
        double v0 = Invariant(p, 1, 1);
        for (int i = 0; i < times.Length; i++) Assert.That(Invariant(p, states[2 * i], states[2 * i + 1]), Is.EqualTo(v0).Within(1e-7));
        double[] sir = Trajectories.Sir(0.4, 0.1, (0.99, 0.01, 0), times);
        for (int i = 0; i < times.Length; i++) Assert.That(sir[3 * i] + sir[3 * i + 1] + sir[3 * i + 2], Is.EqualTo(1).Within(1e-9));
    }
}
