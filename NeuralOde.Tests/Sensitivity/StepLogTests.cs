using NeuralOde.Core;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>The run-length step log gives back every step exactly and needs few runs for fixed steps.</summary>
public class StepLogTests
{
    private const int Seed = 5;

    [Test]
    public void FixedGridSteps_TakeOneRunPerIntervalAndReadBackExactly()
    {
        // The integrator's fixed grid: boundaries j·h from each landing time, the interval's last step ending on it.
        const double h = 1.0 / 10000;
        double[] landings = [0, 0.37, 1];
        var log = new StepLog();
        log.Clear(h);
        var steps = GridSteps(landings, h);
        foreach (var step in steps) log.Add(step);

        Assert.That(log.Count, Is.EqualTo(steps.Count));
        Assert.That(log.RunCount, Is.LessThanOrEqualTo(2 * (landings.Length - 1)), "a grid run and a landing step per interval");
        Assert.That(log.BytesHeld, Is.LessThanOrEqualTo(8 * 24), "a list of at most eight 24-byte runs");
        AssertReadsBack(log, steps);
    }

    [Test]
    public void FixedGridSteps_WithoutTheStepHint_StillReadBackExactly()
    {
        var steps = GridSteps([1, 0.5, -0.25], 1.0 / 300);
        var log = new StepLog();
        foreach (var step in steps) log.Add(step);
        AssertReadsBack(log, steps);
    }

    [Test]
    public void AccumulatedFixedSteps_TakeTwoRunsAndReadBackExactly()
    {
        const double h = 1.0 / 10000;
        var log = new StepLog();
        var steps = new List<AcceptedStep>();
        double t = 0;
        for (int k = 0; k < 9999; k++)
        {
            steps.Add(new AcceptedStep(t, h, t + h, false));
            t += h;
        }
        steps.Add(new AcceptedStep(t, 1 - t, 1, false));
        foreach (var step in steps) log.Add(step);

        Assert.That(log.RunCount, Is.LessThanOrEqualTo(2));
        AssertReadsBack(log, steps);
    }

    /// <summary>The steps of <see cref="FixedGrid"/> between consecutive landing times (either direction).</summary>
    private static List<AcceptedStep> GridSteps(double[] landings, double h)
    {
        var steps = new List<AcceptedStep>();
        for (int i = 0; i + 1 < landings.Length; i++)
        {
            double a = landings[i], b = landings[i + 1], direction = Math.Sign(b - a);
            double m = FixedGrid.StepCount(a, b, h), t = a;
            for (long j = 1; j <= m; j++)
            {
                double end = FixedGrid.Time(a, b, h, direction, j, m);
                steps.Add(new AcceptedStep(t, end - t, end, false));
                t = end;
            }
        }
        return steps;
    }

    [Test]
    public void IrregularSteps_ReadBackExactly()
    {
        var random = new Random(Seed);
        var log = new StepLog();
        var steps = new List<AcceptedStep>();
        double t = -0.3, h = 0.01;
        for (int k = 0; k < 500; k++)
        {
            if (random.NextDouble() < 0.3) h *= 0.5 + random.NextDouble();
            // A landing step ends at a time the integrator snapped to, which need not be t + h (here one ulp past it).
            bool landing = random.NextDouble() < 0.1;
            double end = landing ? Math.BitIncrement(t + h) : t + h;
            var step = new AcceptedStep(t, h, end, random.NextDouble() < 0.05);
            steps.Add(step);
            log.Add(step);
            t = end;
        }
        AssertReadsBack(log, steps);
    }

    [Test]
    public void Add_ThrowsForAStepThatDoesNotStartWhereThePreviousEnded()
    {
        var log = new StepLog();
        log.Add(new AcceptedStep(0, 0.1, 0.1, false));
        Assert.Throws<InvalidOperationException>(() => log.Add(new AcceptedStep(0.2, 0.1, 0.3, false)));
    }

    /// <summary>Reads every step from its start time, walking forward as Checkpointed does.</summary>
    private static void AssertReadsBack(StepLog log, List<AcceptedStep> steps)
    {
        double time = steps[0].Time;
        for (int k = 0; k < steps.Count; k++)
        {
            var read = log.Read(k, time);
            Assert.That(read, Is.EqualTo(steps[k]), $"step {k}");
            time = read.EndTime;
        }
    }
}
