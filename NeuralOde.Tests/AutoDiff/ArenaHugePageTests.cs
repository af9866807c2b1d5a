using NeuralOde.AutoDiff;

namespace NeuralOde.Tests.AutoDiff;

public class ArenaHugePageTests
{
    [TestCase(1000)]
    [TestCase(4 << 20)] // 16 MiB of floats: pinned and advised on Linux
    public void Allocate_GivesAWritableArrayOfTheRequestedLength(int length)
    {
        var array = HugePages.Allocate<float>(length);
        Assert.That(array, Has.Length.EqualTo(length));
        array[0] = 1;
        array[^1] = 2;
        Assert.That(array[0] + array[^1], Is.EqualTo(3));
    }

    [Test]
    public unsafe void ALargeBlock_IsAdvisedForHugePages_InTheKernelsMapping()
    {
        var array = HugePages.Allocate<float>(4 << 20);
        if (!OperatingSystem.IsLinux() || !HugePages.IsAvailable) Assert.Ignore("transparent huge pages are not available here");
        ulong address = (ulong)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(array)) + (8UL << 20);
        // /proc/self/smaps: the mapping that holds the middle of the array carries the "hg" (MADV_HUGEPAGE) flag.
        string? flags = null;
        bool inside = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-');
            if (dash > 0 && line.IndexOf(' ') > dash && ulong.TryParse(line[..dash], System.Globalization.NumberStyles.HexNumber, null, out ulong lo)
                && ulong.TryParse(line[(dash + 1)..line.IndexOf(' ')], System.Globalization.NumberStyles.HexNumber, null, out ulong hi))
            {
                inside = address >= lo && address < hi;
            }
            else if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal))
            {
                flags = line;
                break;
            }
        }
        GC.KeepAlive(array);
        Assert.That(flags, Does.Contain(" hg"));
    }

    [Test]
    public void ATapeRecordingMoreThanOneLargeBlock_KeepsEveryValue()
    {
        // Blocks grow geometrically past the huge-page threshold; values in every block must survive.
        var tape = new Tape<float>(chunkLength: 1 << 16);
        var vars = new List<Var<float>>();
        for (int i = 0; i < 200; i++) vars.Add(tape.Constant(Enumerable.Repeat((float)i, 1 << 16).ToArray(), new Shape(1 << 8, 1 << 8)));
        Assert.That(tape.BytesReserved, Is.GreaterThan(16L << 20));
        for (int i = 0; i < vars.Count; i++) Assert.That(vars[i].Value[^1], Is.EqualTo((float)i));
    }
}
