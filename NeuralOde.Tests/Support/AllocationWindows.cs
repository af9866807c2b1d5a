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
}
