using System.Runtime.InteropServices;

namespace NeuralOde.AutoDiff;

/// <summary>
/// Large arena blocks: on Linux, asks the kernel to back them with transparent huge pages (<c>madvise(MADV_HUGEPAGE)</c>)
/// before they are first touched, so recording a long solve takes a few hundred 2 MiB page faults rather than a
/// hundred thousand 4 KiB ones. Elsewhere, or when the call is unavailable, it is a plain uninitialised array.
/// </summary>
internal static partial class HugePages
{
    private const int AdviseHugePage = 14; // MADV_HUGEPAGE in <sys/mman.h> (Linux)
    private const long HugePageBytes = 2L << 20;
    private const long MinimumBytes = 4 * HugePageBytes;
    // Written without a lock: a lost write only means one more harmless madvise attempt.
    private static bool unavailable = !OperatingSystem.IsLinux();

    /// <summary>Whether the advice is given (Linux, and madvise has not failed).</summary>
    internal static bool IsAvailable => !unavailable;

    /// <summary>An uninitialised array; those of at least 8 MiB on Linux are pinned (they never move) and advised.</summary>
    public static T[] Allocate<T>(int length)
        where T : unmanaged
    {
        long bytes = (long)length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (unavailable || bytes < MinimumBytes) return GC.AllocateUninitializedArray<T>(length);
        var array = GC.AllocateUninitializedArray<T>(length, pinned: true);
        try
        {
            // The pinned object heap never moves the array, so its address stays valid without a handle.
            long start;
            unsafe
            {
                start = (long)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
            }
            long first = (start + HugePageBytes - 1) & ~(HugePageBytes - 1);
            long last = (start + bytes) & ~(HugePageBytes - 1);
            if (last > first && Advise((nint)first, (nuint)(last - first), AdviseHugePage) != 0) unavailable = true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            unavailable = true;
        }
        return array;
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Advise(nint address, nuint length, int advice);
}
