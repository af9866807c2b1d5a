using System.Runtime.InteropServices;

namespace NeuralOde.AutoDiff;

/// <summary>
/// Large arena blocks: on Linux, asks the kernel to back them with transparent huge pages (<c>madvise(MADV_HUGEPAGE)</c>)
/// before they are first touched, so recording a long solve takes a few hundred 2 MiB page faults rather than a
/// hundred thousand 4 KiB ones. Elsewhere, or when the call is unavailable, it is a plain uninitialised array.
/// </summary>
/// <remarks>
/// An advised block starts on a 2 MiB boundary: the array is over-allocated by 2 MiB and the block begins at the first
/// boundary inside it. With a length from <see cref="BlockLength{T}"/> (a whole number of huge pages) no part of the
/// block falls in a partial huge page, which would be faulted in 4 KiB at a time. The slack is never touched, so it
/// costs address space, not memory.
/// </remarks>
internal static partial class HugePages
{
    private const int AdviseHugePage = 14; // MADV_HUGEPAGE in <sys/mman.h> (Linux)
    private const long HugePageBytes = 2L << 20;
    // Written without a lock: a lost write only means one more harmless madvise attempt.
    private static bool unavailable = !OperatingSystem.IsLinux();

    /// <summary>Whether the advice is given (Linux, and madvise has not failed).</summary>
    internal static bool IsAvailable => !unavailable;

    /// <summary>The size in bytes from which a block is aligned and advised: one huge page.</summary>
    internal const long MinimumBytes = HugePageBytes;

    /// <summary>The block length to ask for to hold <paramref name="length"/> elements: rounded up to whole huge pages from <see cref="MinimumBytes"/> on.</summary>
    public static int BlockLength<T>(int length)
        where T : unmanaged
    {
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (unavailable || (long)length * size < MinimumBytes || HugePageBytes % size != 0) return length;
        long perPage = HugePageBytes / size;
        long rounded = (length + perPage - 1) / perPage * perPage;
        return rounded <= Array.MaxLength - perPage ? (int)rounded : length;
    }

    /// <summary>
    /// An uninitialised block of <paramref name="length"/> elements: <c>array.AsSpan(start, length)</c>. Blocks of at least
    /// <see cref="MinimumBytes"/> on Linux are pinned (they never move), start on a 2 MiB boundary and are advised.
    /// </summary>
    public static (T[] Array, int Start) Allocate<T>(int length)
        where T : unmanaged
    {
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        long bytes = (long)length * size;
        if (unavailable || bytes < MinimumBytes || HugePageBytes % size != 0) return (GC.AllocateUninitializedArray<T>(length), 0);
        int slack = (int)(HugePageBytes / size);
        if (length > Array.MaxLength - slack) return (GC.AllocateUninitializedArray<T>(length), 0);
        var array = GC.AllocateUninitializedArray<T>(length + slack, pinned: true);
        long address;
        unsafe
        {
            // The pinned object heap never moves the array, so its address stays valid without a handle.
            address = (long)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        }
        long first = (address + HugePageBytes - 1) & ~(HugePageBytes - 1);
        if ((first - address) % size != 0) return (array, 0);
        int start = (int)((first - address) / size);
        long last = (first + bytes) & ~(HugePageBytes - 1);
        try
        {
            if (last > first && Advise((nint)first, (nuint)(last - first), AdviseHugePage) != 0) unavailable = true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            unavailable = true;
        }
        return (array, start);
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Advise(nint address, nuint length, int advice);
}
