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
