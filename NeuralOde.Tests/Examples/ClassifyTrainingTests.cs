using NeuralOde.Core.Data;
using NeuralOde.Examples.Examples;
using NeuralOde.Examples.Training;

namespace NeuralOde.Tests.Examples;

/// <summary>classify's training choices: the learning-rate schedules, ZCA whitening, and the options that select them.</summary>
[NonParallelizable]
public sealed class ClassifyTrainingTests
{
    [Test]
    public void ConstantSchedule_KeepsTheInitialRate()
    {
        var schedule = new LearningRateSchedule("constant", 1e-3, 1e-4, 3, 10);
        Assert.That(Enumerable.Range(0, 30).Select(schedule.At), Is.All.EqualTo(1e-3));
    }

    [Test]
    public void CosineSchedule_FallsSmoothlyFromTheInitialToTheFinalRate()
    {
        var schedule = new LearningRateSchedule("cosine", 1e-3, 1e-4, 3, 10);
        double[] rates = [.. Enumerable.Range(0, 30).Select(schedule.At)];
        Assert.That(rates[0], Is.EqualTo(1e-3).Within(1e-15));
        Assert.That(rates[^1], Is.EqualTo(1e-4).Within(1e-15));
        Assert.That(rates, Is.Ordered.Descending);
        Assert.That(rates[14] + rates[15], Is.EqualTo(1.1e-3).Within(1e-15), "symmetric about the middle, where it is the mean of the two ends");
    }

    [Test]
    public void StepSchedule_HoldsOneGeometricRatePerEpoch()
    {
        var schedule = new LearningRateSchedule("step", 1e-3, 1e-4, 3, 10);
        Assert.That(Enumerable.Range(0, 10).Select(schedule.At), Is.All.EqualTo(1e-3).Within(1e-15));
        Assert.That(Enumerable.Range(10, 10).Select(schedule.At), Is.All.EqualTo(Math.Sqrt(1e-7)).Within(1e-15));
        Assert.That(Enumerable.Range(20, 10).Select(schedule.At), Is.All.EqualTo(1e-4).Within(1e-15));
    }

    [Test]
    public void SchedulesOfOneStepOrOneEpoch_KeepTheInitialRate()
    {
        Assert.That(new LearningRateSchedule("cosine", 1e-3, 1e-4, 1, 1).At(0), Is.EqualTo(1e-3));
        Assert.That(Enumerable.Range(0, 5).Select(new LearningRateSchedule("step", 1e-3, 1e-4, 1, 5).At), Is.All.EqualTo(1e-3));
    }

    [Test]
    public void ZcaWhitening_GivesTheTrainingSetUnitCovarianceAndKeepsPixelsInPlace()
    {
        const int width = 4, count = 4000;
        var random = new Random(3);
        double[,] mixing = { { 2, 0, 0, 0 }, { 1, 0.5, 0, 0 }, { 0, 0.3, 1, 0 }, { 0.2, 0, 0, 0.1 } };
        float[] Draw(int rows)
        {
            var data = new float[rows * width];
            for (int n = 0; n < rows; n++)
            {
                double[] z = [.. Enumerable.Range(0, width).Select(_ => random.NextDouble() * 2 - 1)];
                for (int p = 0; p < width; p++)
                {
                    double v = 5 + p;
                    for (int q = 0; q < width; q++) v += mixing[p, q] * z[q];
                    data[n * width + p] = (float)v;
                }
            }
            return data;
        }
        float[] train = Draw(count), test = Draw(10);
        float[] original = [.. train];
        train.AsSpan(0, width).CopyTo(test); // test row 0 = train row 0: both sets must go through the same map
        ZcaWhitening.Apply(train, width, 0, CancellationToken.None, train, test);

        for (int p = 0; p < width; p++)
        {
            Assert.That(Enumerable.Range(0, count).Average(n => train[n * width + p]), Is.EqualTo(0).Within(1e-4), $"mean of pixel {p}");
            for (int q = 0; q < width; q++)
            {
                double covariance = Enumerable.Range(0, count).Sum(n => (double)train[n * width + p] * train[n * width + q]) / (count - 1);
                Assert.That(covariance, Is.EqualTo(p == q ? 1 : 0).Within(1e-3), $"covariance ({p}, {q})");
            }
        }
        // ZCA (not PCA or another whitening): W is symmetric, so the cross-covariance of whitened and original pixels,
        // C·W = C^½, is symmetric too; PCA's would be Λ^½·Uᵀ.
        double[] mean = [.. Enumerable.Range(0, width).Select(p => Enumerable.Range(0, count).Average(n => (double)original[n * width + p]))];
        for (int p = 0; p < width; p++)
        {
            for (int q = 0; q < p; q++)
            {
                double pq = Enumerable.Range(0, count).Sum(n => train[n * width + p] * (original[n * width + q] - mean[q]));
                double qp = Enumerable.Range(0, count).Sum(n => train[n * width + q] * (original[n * width + p] - mean[p]));
                Assert.That(pq, Is.EqualTo(qp).Within(1e-3 * Math.Max(Math.Abs(pq), 1)), $"cross-covariance ({p}, {q})");
            }
        }
        Assert.That(test.AsSpan(0, width).ToArray(), Is.EqualTo(train.AsSpan(0, width).ToArray()).Within(1e-5), "the test set goes through the training set's map");
    }

    [Test]
    public void Classify_DefaultsToZcaCosineAndTFour()
    {
        using var run = new ExampleRun();
        string data = Path.Combine(run.Folder, "data");
        IdxWriter.WriteDataset(data, train: 96, test: 40, gzip: true);
        Assert.That(run.Smoke("classify", "--data", data, "--batch", "32"), Is.Zero, run.Output);
        Assert.That(run.Output, Does.Contain("zca scaling, T = 4, lr 0.001 cosine to 0.0001"));
    }

    [TestCase("pixel", "step", "2", "pixel scaling, T = 2, lr 0.001 step to 0.0001")]
    [TestCase("global", "constant", "1", "global scaling, T = 1, lr 0.001 constant")]
    [TestCase("unit", "cosine", "0.5", "unit scaling, T = 0.5, lr 0.001 cosine to 0.0001")]
    public void Classify_RunsWithEachScalingAndSchedule(string scaling, string schedule, string time, string expected)
    {
        using var run = new ExampleRun();
        string data = Path.Combine(run.Folder, "data");
        IdxWriter.WriteDataset(data, train: 96, test: 40, gzip: false);
        Assert.That(run.Smoke("classify", "--data", data, "--batch", "32", "--standardize", scaling, "--lr-schedule", schedule, "--time", time), Is.Zero, run.Output);
        Assert.That(run.Output, Does.Contain(expected).And.Contain("test accuracy"));
    }

    [Test]
    public void ClassifyHelp_DescribesTheTrainingChoices()
    {
        using var run = new ExampleRun();
        Assert.That(run.Invoke("classify", "--help"), Is.Zero);
        Assert.That(run.Output, Does.Contain("--lr-schedule").And.Contain("--lr-final").And.Contain("--standardize").And.Contain("--time"));
    }

    [TestCase("--lr-schedule", "warp")]
    [TestCase("--standardize", "magic")]
    [TestCase("--time", "0")]
    [TestCase("--lr-final", "-1")]
    public void Classify_BadTrainingOptions_GiveAUsageError(string option, string value)
    {
        using var run = new ExampleRun();
        int code = run.Invoke("classify", option, value, "--out", run.Folder);
        Assert.That(code, Is.EqualTo(1), run.Output);
        Assert.That(run.Output, Does.Contain("Usage").Or.Contain("usage"));
        Assert.That(run.Output, Does.Not.Contain("   at "), "no stack trace");
    }
}
