using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace NeuralOde.AutoDiff.Threading;

/// <summary>Dedicated, pre-started worker threads that run an <see cref="IParallelWork"/> split into parts.</summary>
/// <remarks>
/// <para>
/// Unlike <c>Parallel.For</c> or a <c>Task</c> per call, a run allocates nothing: the workers are started once and
/// wait for work on their own. Parts are claimed dynamically: the calling thread and every awake worker take the next
/// unclaimed part until none is left (the caller keeps claiming until every part is taken), and the call returns once
/// all of them have finished. A worker
/// that is slow to wake (a busy machine, a descheduled thread) therefore never holds the caller up: the caller runs
/// the parts itself. After a run a worker keeps polling for the next one for a short while
/// (<see cref="SpinMicroseconds"/>) before it blocks, so back-to-back runs separated by a little serial work find it
/// awake. Which elements a part touches depends only on the part index and count, so results are bitwise the same
/// whichever thread runs a part.
/// </para>
/// <para>
/// Runs from several threads are serialised. A run started from inside a part (of any pool) executes all its parts on
/// that thread, in order: handing it to the workers would deadlock or corrupt the outer run. An exception thrown by a
/// part is re-thrown on the calling thread after every claimed part has finished.
/// </para>
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    /// <summary>How long an idle worker keeps polling for the next run before it blocks.</summary>
    public const int SpinMicroseconds = 200;

    // state = (generation << 32) | next unclaimed part; the part field is Closed (all ones, read as −1) while a run is
    // being set up, a value no claim can reach since a run has at most int.MaxValue parts.
    private const long PartMask = 0xFFFF_FFFF;
    private const int Closed = -1;

    private readonly Thread[] threads;
    private readonly SemaphoreSlim[] wake;
    private readonly int[] sleeping;
    // Each worker's own allocation counter, as it read it after its latest part and its latest wait (see WorkerAllocatedBytes).
    private readonly long[] workerAllocations;
    private readonly Lock runLock = new();
    private readonly long spinTicks = Math.Max(1, Stopwatch.Frequency * SpinMicroseconds / 1_000_000);
    private IParallelWork? work;
    private int count;
    private long state;
    private int remaining;
    private ExceptionDispatchInfo? failure;
    private volatile bool disposed;

    /// <summary>Whether this thread is executing a part of some run (nested runs then execute inline).</summary>
    [ThreadStatic] private static bool executingPart;

    /// <summary>The pool this thread is a worker of (null on every other thread) and its slot there.</summary>
    [ThreadStatic] private static WorkerPool? ownPool;

    [ThreadStatic] private static int ownSlot;

    /// <summary>A pool with one worker fewer than the machine has processors (the caller is the last participant).</summary>
    public static WorkerPool Shared { get; } = new(Math.Max(0, Environment.ProcessorCount - 1));

    /// <summary>Starts <paramref name="workerCount"/> background worker threads.</summary>
    /// <param name="workerCount">The number of threads besides the caller; 0 runs everything on the caller.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="workerCount"/> is negative.</exception>
    public WorkerPool(int workerCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(workerCount);
        threads = new Thread[workerCount];
        wake = new SemaphoreSlim[workerCount];
        sleeping = new int[workerCount];
        workerAllocations = new long[workerCount];
        state = PartMask;
        for (int w = 0; w < workerCount; w++)
        {
            wake[w] = new SemaphoreSlim(0);
            int index = w;
            threads[w] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"NeuralOde worker {w + 1}" };
            threads[w].Start();
        }
    }

    /// <summary>The number of threads that take part in a run: the workers and the caller.</summary>
    public int Participants => threads.Length + 1;

    /// <summary>
    /// Whether the workers publish their allocation counters (<see cref="WorkerAllocatedBytes"/>): off unless an
    /// allocation test turns it on, so a run's parts pay one static read for the diagnostic.
    /// </summary>
    internal static volatile bool TrackAllocations;

    /// <summary>
    /// The bytes the worker threads have allocated (their own counters, as of the end of each one's latest part or
    /// wait, while <see cref="TrackAllocations"/> is on): with the calling thread's count, everything a run allocates,
    /// without the host's other threads. A worker's reading is published before its part is counted as finished.
    /// </summary>
    internal long WorkerAllocatedBytes
    {
        get
        {
            long sum = 0;
            for (int w = 0; w < workerAllocations.Length; w++) sum += Volatile.Read(ref workerAllocations[w]);
            return sum;
        }
    }

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
            // Close the current generation before touching work and count, so a late worker's claim (which checks the
            // whole state word) can only succeed for the run whose work and count it read.
            long generation = (Volatile.Read(ref state) >> 32) + 1;
            Interlocked.Exchange(ref state, (generation << 32) | PartMask);
            this.work = work;
            count = partCount;
            failure = null;
            Volatile.Write(ref remaining, partCount);
            Interlocked.Exchange(ref state, generation << 32);
            for (int w = 0; w < helpers; w++)
            {
                if (Interlocked.Exchange(ref sleeping[w], 0) == 1) wake[w].Release();
            }

            ClaimParts(generation);
            var spin = new SpinWait();
            while (Volatile.Read(ref remaining) != 0) spin.SpinOnce(sleep1Threshold: -1);
            this.work = null;
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

    /// <summary>Claims and runs parts of <paramref name="generation"/> until none is left.</summary>
    private void ClaimParts(long generation)
    {
        var spin = new SpinWait();
        while (true)
        {
            long s = Volatile.Read(ref state);
            if (s >> 32 != generation) return;
            int part = (int)(s & PartMask);
            if (part == Closed)
            {
                spin.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            var current = work;
            int parts = count;
            if (part >= parts || current is null) return;
            if (Interlocked.CompareExchange(ref state, s + 1, s) != s) continue;
            executingPart = true;
            try
            {
                current.Execute(part, parts);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
            }
            finally
            {
                executingPart = false;
                if (TrackAllocations && ReferenceEquals(ownPool, this)) Volatile.Write(ref workerAllocations[ownSlot], GC.GetAllocatedBytesForCurrentThread());
                Interlocked.Decrement(ref remaining);
            }
        }
    }

    private void WorkerLoop(int index)
    {
        ownPool = this;
        ownSlot = index;
        long seen = 0;
        while (!disposed)
        {
            long generation = Volatile.Read(ref state) >> 32;
            if (generation != seen)
            {
                ClaimParts(generation);
                seen = generation;
                continue;
            }
            if (PollForNextRun(seen)) continue;

            // Announce the sleep, then look once more: a run published in between either sees the flag (and releases
            // the semaphore) or is seen here.
            Interlocked.Exchange(ref sleeping[index], 1);
            if (Volatile.Read(ref state) >> 32 != seen && Interlocked.Exchange(ref sleeping[index], 0) == 1) continue;
            wake[index].Wait();
            if (TrackAllocations) Volatile.Write(ref workerAllocations[index], GC.GetAllocatedBytesForCurrentThread());
        }
    }

    /// <summary>Polls for <see cref="SpinMicroseconds"/> for a generation after <paramref name="seen"/>.</summary>
    private bool PollForNextRun(long seen)
    {
        long start = Stopwatch.GetTimestamp();
        do
        {
            for (int i = 0; i < 64; i++)
            {
                if (Volatile.Read(ref state) >> 32 != seen || disposed) return true;
                Thread.SpinWait(8);
            }
        }
        while (Stopwatch.GetTimestamp() - start < spinTicks);
        return false;
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var s in wake) s.Release();
        foreach (var t in threads) t.Join();
        foreach (var s in wake) s.Dispose();
    }
}
