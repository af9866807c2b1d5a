using NeuralOde.AutoDiff.Threading;

namespace NeuralOde.Tests.AutoDiff;

/// <summary>The worker pool's dynamic claiming: each part of each run exactly once, whoever runs it.</summary>
public class WorkerPoolTests
{
    private sealed class CountingWork(int maxParts) : IParallelWork
    {
        public readonly int[] Counts = new int[maxParts];

        public void Execute(int part, int partCount)
        {
            Interlocked.Increment(ref Counts[part]);
            if (part % 3 == 0) Thread.SpinWait(50); // uneven parts, so claims interleave
        }
    }

    [Test]
    public void EveryPartRunsExactlyOnce_InThousandsOfRuns_FromTwoCallingThreads()
    {
        using var pool = new WorkerPool(2);
        var failures = new List<string>();
        void Caller(int seed)
        {
            var random = new Random(seed);
            var work = new CountingWork(16);
            for (int run = 0; run < 3000; run++)
            {
                int parts = random.Next(1, 17);
                Array.Clear(work.Counts);
                pool.Run(work, parts);
                for (int p = 0; p < 16; p++)
                {
                    int expected = p < parts ? 1 : 0;
                    if (work.Counts[p] != expected)
                    {
                        lock (failures) failures.Add($"caller {seed}, run {run}: part {p} of {parts} ran {work.Counts[p]} times");
                        return;
                    }
                }
            }
        }
        var other = new Thread(() => Caller(2));
        other.Start();
        Caller(1);
        other.Join();
        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void EveryPartRunsExactlyOnce_WhenTheWorkersHaveGoneToSleepBetweenRuns()
    {
        // Runs further apart than the workers' polling time exercise the sleep and wake-up path.
        using var pool = new WorkerPool(2);
        var work = new CountingWork(6);
        for (int run = 0; run < 40; run++)
        {
            Array.Clear(work.Counts);
            pool.Run(work, 6);
            Assert.That(work.Counts, Is.EqualTo(new[] { 1, 1, 1, 1, 1, 1 }), $"run {run}");
            Thread.Sleep(1);
        }
    }

    [Test]
    public void ARunStartedInsideAPart_RunsInline_AndCompletes()
    {
        using var pool = new WorkerPool(1);
        var inner = new CountingWork(4);
        var outer = new NestedWork(pool, inner);
        pool.Run(outer, 3);
        Assert.That(inner.Counts, Is.EqualTo(new[] { 3, 3, 3, 3 }));
    }

    private sealed class NestedWork(WorkerPool pool, CountingWork inner) : IParallelWork
    {
        public void Execute(int part, int partCount) => pool.Run(inner, 4);
    }

    [Test]
    public void APartsException_ReachesTheCaller_AfterTheOtherPartsFinished()
    {
        using var pool = new WorkerPool(1);
        var work = new ThrowingWork();
        var e = Assert.Throws<InvalidOperationException>(() => pool.Run(work, 8));
        Assert.That(e!.Message, Does.Contain("part 5"));
        Assert.That(work.Finished, Is.EqualTo(7));
        // The pool still works afterwards.
        var counting = new CountingWork(4);
        pool.Run(counting, 4);
        Assert.That(counting.Counts, Is.EqualTo(new[] { 1, 1, 1, 1 }));
    }

    private sealed class ThrowingWork : IParallelWork
    {
        public int Finished;

        public void Execute(int part, int partCount)
        {
            if (part == 5) throw new InvalidOperationException($"part {part}");
            Interlocked.Increment(ref Finished);
        }
    }

    /// <summary>Two parts that wait for each other (so they run on two threads), each allocating one 1000-byte array.</summary>
    private sealed class AllocatingPairWork : IParallelWork
    {
        private int started;

        public object?[] Kept { get; } = new object?[2];

        public void Execute(int part, int partCount)
        {
            Interlocked.Increment(ref started);
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (Volatile.Read(ref started) < 2 && DateTime.UtcNow < deadline) Thread.SpinWait(64);
            Kept[part] = new byte[1000];
        }

        public void Reset() => started = 0;
    }

    [Test]
    public void WorkerAllocatedBytes_CountsWhatTheWorkersAllocate()
    {
        WorkerPool.TrackAllocations = true;
        using var pool = new WorkerPool(1);
        var work = new AllocatingPairWork();
        pool.Run(work, 2);
        work.Reset();
        long callerBefore = GC.GetAllocatedBytesForCurrentThread(), workersBefore = pool.WorkerAllocatedBytes;
        pool.Run(work, 2);
        long caller = GC.GetAllocatedBytesForCurrentThread() - callerBefore, workers = pool.WorkerAllocatedBytes - workersBefore;
        TestContext.Out.WriteLine($"caller {caller} B, workers {workers} B");
        // One array on each thread: the worker's is seen only through its counter.
        Assert.That(workers, Is.GreaterThanOrEqualTo(1000));
        Assert.That(caller + workers, Is.GreaterThanOrEqualTo(2000));
    }
}
