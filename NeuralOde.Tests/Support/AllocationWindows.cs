namespace NeuralOde.Tests.Support;

/// <summary>Bytes the calling thread allocates in a measured call, robust to one-time runtime allocations.</summary>
internal static class AllocationWindows
{
    /// <summary>
    /// The fewest bytes the calling thread allocated over <paramref name="windows"/> runs of <paramref name="measured"/>,
    /// each after an unmeasured <paramref name="setup"/>: a one-time allocation of the runtime (or a lazy buffer) lands in
    /// one window at most, while an allocation per call or per step shows in every window, so the minimum keeps the test
    /// strict for those and stops it failing on the others.
    /// </summary>
    public static long Quietest(Action measured, Action? setup = null, int windows = 8)
    {
        long quietest = long.MaxValue;
        for (int window = 0; window < windows; window++)
        {
            setup?.Invoke();
            long before = GC.GetAllocatedBytesForCurrentThread();
            measured();
            quietest = Math.Min(quietest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return quietest;
    }

    /// <summary>
    /// As <see cref="Quietest"/>, but counting every thread of the process (worker pools included), and stopping at the
    /// first window that allocated nothing. The test host's own threads allocate about 2 KB a second while idle, so a
    /// window may catch them; a call that allocates shows in every window whatever the host does. A call long enough to
    /// overlap the host's allocations in every window needs <see cref="QuietestWithWorkers"/>.
    /// </summary>
    public static long QuietestProcessWide(Action measured, int windows = 40)
    {
        long quietest = long.MaxValue;
        for (int window = 0; window < windows && quietest != 0; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            measured();
            quietest = Math.Min(quietest, GC.GetTotalAllocatedBytes(precise: true) - before);
        }
        return quietest;
    }

    /// <summary>
    /// As <see cref="Quietest"/>, counting the calling thread and the shared worker pool's threads (every thread the
    /// library runs on) and nothing of the test host's: for calls long enough (a stiff 4096-row training iteration at
    /// 128-bit vectors) that the host's idle allocations land in every process-wide window (measured 168 B in each of 40).
    /// </summary>
    public static long QuietestWithWorkers(Action measured, int windows = 8)
    {
        var pool = NeuralOde.AutoDiff.Threading.WorkerPool.Shared;
        NeuralOde.AutoDiff.Threading.WorkerPool.TrackAllocations = true;
        long quietest = long.MaxValue;
        for (int window = 0; window < windows && quietest != 0; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread() + pool.WorkerAllocatedBytes;
            measured();
            quietest = Math.Min(quietest, GC.GetAllocatedBytesForCurrentThread() + pool.WorkerAllocatedBytes - before);
        }
        return quietest;
    }
}
