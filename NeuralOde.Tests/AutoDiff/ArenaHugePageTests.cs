using NeuralOde.AutoDiff;

namespace NeuralOde.Tests.AutoDiff;

public class ArenaHugePageTests
{
    [TestCase(1000)]
    [TestCase(1 << 19)] // 2 MiB of floats: the smallest block that is aligned and advised on Linux
    [TestCase(4 << 20)] // 16 MiB of floats
    public void Allocate_GivesAWritableBlockOfTheRequestedLength(int length)
    {
        var (array, start) = HugePages.Allocate<float>(length);
        var block = array.AsSpan(start, length);
        block[0] = 1;
        block[^1] = 2;
        Assert.That(block[0] + block[^1], Is.EqualTo(3));
    }

    [TestCase(1 << 19)]
    [TestCase(3 << 20)]
    public unsafe void AnAdvisedBlock_StartsOnAHugePageBoundary(int length)
    {
        var (array, start) = HugePages.Allocate<float>(length);
        if (!OperatingSystem.IsLinux() || !HugePages.IsAvailable) Assert.Ignore("transparent huge pages are not available here");
        ulong address = (ulong)System.Runtime.CompilerServices.Unsafe.AsPointer(ref array[start]);
        Assert.That(address % (2UL << 20), Is.Zero);
        Assert.That(array.Length - start, Is.GreaterThanOrEqualTo(length));
    }

    [Test]
    public void ASmallBlock_IsAPlainArray()
    {
        var (array, start) = HugePages.Allocate<float>(1000);
        Assert.That((array.Length, start), Is.EqualTo((1000, 0)));
    }

    [Test]
    public unsafe void ALargeBlock_IsAdvisedForHugePages_InTheKernelsMapping()
    {
        var (array, start) = HugePages.Allocate<float>(4 << 20);
        if (!OperatingSystem.IsLinux() || !HugePages.IsAvailable) Assert.Ignore("transparent huge pages are not available here");
        ulong address = (ulong)System.Runtime.CompilerServices.Unsafe.AsPointer(ref array[start]) + (8UL << 20);
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
    public void RollingBackIntoAnAlignedBlock_ReusesItsPlaces_AndKeepsWhatCameBefore()
    {
        // 2^19 floats is a 2 MiB chunk: every block is aligned, so offsets within a block start past the array's slack.
        var tape = new Tape<float>(chunkLength: 1 << 19);
        var kept = tape.Constant(Enumerable.Range(0, 1000).Select(i => (float)i).ToArray(), new Shape(10, 100));
        var mark = tape.Mark();
        var dropped = tape.Constant(Enumerable.Repeat(-1f, 1 << 19).ToArray(), new Shape(1 << 9, 1 << 10));
        Assert.That(dropped.Value[0], Is.EqualTo(-1f));
        tape.Rollback(mark);
        var again = tape.Constant(Enumerable.Range(0, 300).Select(i => 0.5f * i).ToArray(), new Shape(3, 100));
        Assert.That(kept.Value.ToArray(), Is.EqualTo(Enumerable.Range(0, 1000).Select(i => (float)i).ToArray()));
        Assert.That(again.Value.ToArray(), Is.EqualTo(Enumerable.Range(0, 300).Select(i => 0.5f * i).ToArray()));
        Assert.That(tape.ValueBytesInUse, Is.EqualTo(1300L * sizeof(float)));
    }

    [Test]
    public void BlockLengths_AreWholeHugePagesFromTwoMebibytesOn()
    {
        Assert.That(HugePages.BlockLength<float>(1000), Is.EqualTo(1000));
        int rounded = HugePages.BlockLength<float>((1 << 19) + 1);
        if (!HugePages.IsAvailable) Assert.That(rounded, Is.EqualTo((1 << 19) + 1));
        else Assert.That(rounded, Is.EqualTo(1 << 20));
    }

    [Test]
    public void ATapeRecordingMoreThanOneLargeBlock_KeepsEveryValue()
    {
        // Blocks grow geometrically past the huge-page threshold; values in every block must survive.
        var tape = new Tape<float>(chunkLength: 1 << 16);
        var vars = new List<Var<float>>();
        for (int i = 0; i < 200; i++) vars.Add(tape.Constant(Enumerable.Repeat((float)i, 1 << 16).ToArray(), new Shape(1 << 8, 1 << 8)));
        Assert.That(tape.BytesReserved, Is.GreaterThan(16L << 20));
        for (int i = 0; i < vars.Count; i++) Assert.That(vars[i].Value.ToArray(), Is.All.EqualTo((float)i));
    }
}
