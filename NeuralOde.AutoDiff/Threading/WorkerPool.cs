using System.Runtime.ExceptionServices;

namespace NeuralOde.AutoDiff.Threading;

/// <summary>Dedicated, pre-started worker threads that run an <see cref="IParallelWork"/> with a fixed split.</summary>
/// <remarks>
/// Unlike <c>Parallel.For</c> or a <c>Task</c> per call, a run allocates nothing: the workers are started once, they
/// wait on their own signal, and part <c>p</c> of a run always goes to the same participant (the calling thread runs
/// part 0, worker <c>w</c> runs parts <c>w + 1</c>, <c>w + 1 + participants</c>, …). Runs from several threads are
/// serialised. A run started from inside a part (of any pool) executes all its parts on that thread, in order: handing
/// it to the workers would deadlock or corrupt the outer run, and with a fixed split the result is the same. An
/// exception thrown by a part is re-thrown on the calling thread after every part has finished.
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    private readonly Thread[] threads;
    private readonly SemaphoreSlim[] starts;
    private readonly ManualResetEventSlim allDone = new(false);
    private readonly Lock runLock = new();
    private IParallelWork? currentWork;
    private int currentParts;
    private int pending;
    private ExceptionDispatchInfo? failure;
    private volatile bool disposed;

    /// <summary>Whether this thread is executing a part of some run (nested runs then execute inline).</summary>
    [ThreadStatic] private static bool executingPart;

    /// <summary>A pool with one worker fewer than the machine has processors (the caller is the last participant).</summary>
    public static WorkerPool Shared { get; } = new(Math.Max(0, Environment.ProcessorCount - 1));

    /// <summary>Starts <paramref name="workerCount"/> background worker threads.</summary>
    /// <param name="workerCount">The number of threads besides the caller; 0 runs everything on the caller.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="workerCount"/> is negative.</exception>
    public WorkerPool(int workerCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(workerCount);
        threads = new Thread[workerCount];
        starts = new SemaphoreSlim[workerCount];
        for (int w = 0; w < workerCount; w++)
        {
            starts[w] = new SemaphoreSlim(0);
            int index = w;
            threads[w] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"NeuralOde worker {w + 1}" };
            threads[w].Start();
        }
        // ManualResetEventSlim creates its lock object the first time a waiter has to block; on a busy machine that
        // could happen in a warm Run and allocate. Waiting once here (it times out) creates it up front.
        if (workerCount > 0) allDone.Wait(1);
    }

    /// <summary>The number of threads that take part in a run: the workers and the caller.</summary>
    public int Participants => threads.Length + 1;

    /// <summary>Runs every part of <paramref name="work"/> and returns when all have finished.</summary>
    /// <param name="work">The work; reuse one instance across runs.</param>
    /// <param name="partCount">How many parts to split it into; 1 runs it on the caller alone.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="partCount"/> is less than 1.</exception>
    public void Run(IParallelWork work, int partCount)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentOutOfRangeException.ThrowIfLessThan(partCount, 1);
        ObjectDisposedException.ThrowIf(disposed, this);
        int helpers = Math.Min(threads.Length, partCount - 1);
        if (helpers == 0 || executingPart)
        {
            RunInline(work, partCount);
            return;
        }

        lock (runLock)
        {
            currentWork = work;
            currentParts = partCount;
            failure = null;
            allDone.Reset();
            Volatile.Write(ref pending, helpers);
            for (int w = 0; w < helpers; w++) starts[w].Release();
            try
            {
                RunShare(0, work, partCount);
            }
            finally
            {
                allDone.Wait();
                currentWork = null;
            }
            failure?.Throw();
        }
    }

    private static void RunInline(IParallelWork work, int partCount)
    {
        bool outer = executingPart;
        executingPart = true;
        try
        {
            for (int p = 0; p < partCount; p++) work.Execute(p, partCount);
        }
        finally
        {
            executingPart = outer;
        }
    }

    private void RunShare(int participant, IParallelWork work, int partCount)
    {
        int stride = Math.Min(Participants, partCount);
        executingPart = true;
        try
        {
            for (int p = participant; p < partCount; p += stride) work.Execute(p, partCount);
        }
        finally
        {
            executingPart = false;
        }
    }

    private void WorkerLoop(int index)
    {
        while (true)
        {
            starts[index].Wait();
            if (disposed) return;
            try
            {
                RunShare(index + 1, currentWork!, currentParts);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
            }
            if (Interlocked.Decrement(ref pending) == 0) allDone.Set();
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var s in starts) s.Release();
        foreach (var t in threads) t.Join();
        foreach (var s in starts) s.Dispose();
        allDone.Dispose();
    }
}
