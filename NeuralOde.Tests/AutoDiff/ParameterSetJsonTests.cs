using System.Text.Json.Nodes;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.AutoDiff;

public class ParameterSetJsonTests
{
    private const int Seed = 20261128;

    private static readonly (string Name, Shape Shape)[] W2Layout =
    [
        ("net.0.weight", new Shape(64, 3)), ("net.0.bias", new Shape(1, 64)),
        ("net.2.weight", new Shape(64, 64)), ("net.2.bias", new Shape(1, 64)),
        ("net.4.weight", new Shape(64, 64)), ("net.4.bias", new Shape(1, 64)),
        ("net.6.weight", new Shape(2, 64)), ("net.6.bias", new Shape(1, 2)),
    ];

    private static ParameterSet<T> W2Set<T>()
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var set = new ParameterSet<T>();
        foreach (var (name, shape) in W2Layout) set.Add(name, shape);
        return set;
    }

    private static T[] RandomValues<T>(int n, Random rng)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var values = new T[n];
        for (int i = 0; i < n; i++)
        {
            // Mantissas and exponents over a wide range, including subnormal-adjacent and large magnitudes.
            double x = (rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-30, 30));
            values[i] = T.CreateChecked(x);
        }
        values[0] = T.Epsilon;
        values[1] = -T.CreateChecked(typeof(T) == typeof(float) ? float.MaxValue : double.MaxValue);
        values[2] = T.NegativeZero;
        return values;
    }

    private static void RoundTripIsBitExact<T>()
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var source = W2Set<T>();
        RandomValues<T>(source.Length, new Random(Seed)).CopyTo(source.Values);
        using var stream = new MemoryStream();
        source.Save(stream);
        stream.Position = 0;

        var target = W2Set<T>();
        target.Load(stream);

        var expected = source.Values.ToArray();
        var actual = target.Values.ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            if (!expected[i].Equals(actual[i]) || T.IsNegative(expected[i]) != T.IsNegative(actual[i]))
                Assert.Fail($"Element {i}: saved {expected[i]}, loaded {actual[i]}.");
        }
    }

    [Test]
    public void SaveThenLoad_IsBitExact_Float() => RoundTripIsBitExact<float>();

    [Test]
    public void SaveThenLoad_IsBitExact_Double() => RoundTripIsBitExact<double>();

    [Test]
    public void SaveThenLoad_ThroughAFile_IsBitExact()
    {
        var source = W2Set<float>();
        RandomValues<float>(source.Length, new Random(Seed + 1)).CopyTo(source.Values);
        string path = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"roundtrip-{Guid.NewGuid():N}.json");
        try
        {
            source.Save(path);
            var target = W2Set<float>();
            target.Load(path);
            Assert.That(target.Values.ToArray(), Is.EqualTo(source.Values.ToArray()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Save_WritesTheFixtureSchema()
    {
        var set = new ParameterSet<float>();
        set.Add("w", new Shape(2, 3));
        set.Values.Fill(0.1f);
        using var stream = new MemoryStream();
        set.Save(stream);
        var root = JsonNode.Parse(stream.ToArray())!;
        var entry = root["arrays"]!["w"]!;
        Assert.That(entry["dtype"]!.GetValue<string>(), Is.EqualTo("float32"));
        Assert.That(entry["shape"]!.AsArray().Select(s => s!.GetValue<int>()), Is.EqualTo(new[] { 2, 3 }));
        Assert.That(entry["data"]!.AsArray(), Has.Count.EqualTo(6));
        // The fixtures' convention: the shortest decimal of the float's exact double value.
        Assert.That(entry["data"]![0]!.ToJsonString(), Is.EqualTo(((double)0.1f).ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void Load_W2Fixture_GivesItsNumbersExactly()
    {
        string path = FixtureFiles.Path("w2.json");
        var single = W2Set<float>();
        var wide = W2Set<double>();
        single.Load(path);
        wide.Load(path);

        // An independent parse of the same file.
        var arrays = JsonNode.Parse(File.ReadAllText(path))!["arrays"]!;
        foreach (var (name, shape) in W2Layout)
        {
            var data = arrays[name]!["data"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            Assert.That(data, Has.Length.EqualTo(shape.Length), name);
            Assert.That(single[name].Value.ToArray(), Is.EqualTo(data.Select(d => (float)d).ToArray()), name);
            Assert.That(wide[name].Value.ToArray(), Is.EqualTo(data), name);
        }

        // Spot checks against numbers read off the file by eye.
        Assert.That(single["net.0.bias"].Value[0], Is.EqualTo(-0.4072503447532654f));
        Assert.That(wide["net.0.bias"].Value[1], Is.EqualTo(0.025749757885932922));
        var w = arrays["net.2.weight"]!["data"]!.AsArray();
        Assert.That(wide["net.2.weight"].Value[(5 * 64) + 7], Is.EqualTo(w[(5 * 64) + 7]!.GetValue<double>()));
    }

    [Test]
    public void Load_WrongShape_ThrowsNamingTensorAndShapes_AndLeavesTheSetUnchanged()
    {
        var set = new ParameterSet<float>();
        set.Add("net.0.bias", new Shape(1, 64));
        set.Add("net.0.weight", new Shape(3, 64));
        set.Values.Fill(7f);
        var ex = Assert.Throws<InvalidDataException>(() => set.Load(FixtureFiles.Path("w2.json")));
        Assert.That(ex!.Message, Does.Contain("net.0.weight").And.Contain("3×64").And.Contain("[64, 3]"));
        Assert.That(set.Values.ToArray(), Is.All.EqualTo(7f));
    }

    [Test]
    public void Load_BiasOfWrongLength_Throws()
    {
        var set = new ParameterSet<double>();
        set.Add("net.6.bias", new Shape(1, 3));
        var ex = Assert.Throws<InvalidDataException>(() => set.Load(FixtureFiles.Path("w2.json")));
        Assert.That(ex!.Message, Does.Contain("net.6.bias").And.Contain("1×3").And.Contain("[2]"));
    }

    [Test]
    public void Load_MissingName_ThrowsNamingIt()
    {
        var set = new ParameterSet<double>();
        set.Add("net.0.weight", new Shape(64, 3));
        set.Add("net.8.weight", new Shape(2, 64));
        var ex = Assert.Throws<KeyNotFoundException>(() => set.Load(FixtureFiles.Path("w2.json")));
        Assert.That(ex!.Message, Does.Contain("net.8.weight"));
    }

    [Test]
    public void Save_NonFiniteValue_ThrowsNamingTheTensor()
    {
        var set = new ParameterSet<double>();
        set.Add("layer.bias", new Shape(1, 2));
        set.Values[1] = double.NaN;
        using var stream = new MemoryStream();
        var ex = Assert.Throws<InvalidOperationException>(() => set.Save(stream));
        Assert.That(ex!.Message, Does.Contain("layer.bias"));
    }

    [Test]
    public void ReadArray_ReadsBatchesWithTheirShape()
    {
        var x = TensorFile.ReadArray<float>(FixtureFiles.Path("w2.json"), "x_batch");
        Assert.That(x.Shape, Is.EqualTo(new[] { 512, 2 }));
        Assert.That(x.AsMatrix(), Is.EqualTo(new Shape(512, 2)));
        var independent = JsonNode.Parse(File.ReadAllText(FixtureFiles.Path("w2.json")))!["arrays"]!["x_batch"]!["data"]!.AsArray();
        Assert.That(x.Data, Is.EqualTo(independent.Select(v => (float)v!.GetValue<double>()).ToArray()));

        using var w1 = TensorFile.Open(FixtureFiles.Path("w1.json"));
        var y0 = w1.ReadArray<double>("batch_y0");
        Assert.That(y0.Shape, Is.EqualTo(new[] { 20, 1, 2 }));
        Assert.That(y0.AsMatrix(), Is.EqualTo(new Shape(20, 2)));
        var index = w1.ReadArray<long>("batch_index");
        Assert.That(index.Length, Is.EqualTo(20));
        Assert.That(() => w1.ReadArray<double>("no_such_array"), Throws.TypeOf<KeyNotFoundException>().With.Message.Contain("no_such_array"));
    }

    [Test]
    public void ExpectedGradient_ReadsTheFixturesGradients()
    {
        using var file = TensorFile.Open(FixtureFiles.Path("w2.json"));
        var grad = FixtureFiles.ExpectedGradient<double>(file, "backprop", "net.6.weight");
        Assert.That(grad.Shape, Is.EqualTo(new[] { 2, 64 }));
        var independent = JsonNode.Parse(File.ReadAllText(FixtureFiles.Path("w2.json")))!["expected"]!["backprop"]!["grads"]!["net.6.weight"]!["data"]!.AsArray();
        Assert.That(grad.Data, Is.EqualTo(independent.Select(v => v!.GetValue<double>()).ToArray()));
        Assert.That(FixtureFiles.ExpectedScalar(file, "backprop", "loss"), Is.EqualTo(6.850320339202881));
    }

    private static string TemporaryDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "neuralode-save-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    [Test]
    public void Save_RefusedForANonFiniteValue_LeavesThePreviousFileIntact()
    {
        string dir = TemporaryDirectory();
        try
        {
            string path = Path.Combine(dir, "model.json");
            var set = new ParameterSet<double>();
            set.Add("layer.weight", new Shape(2, 2));
            set.Values.Fill(0.5);
            set.Save(path);
            byte[] good = File.ReadAllBytes(path);

            set.Values[3] = double.NaN;
            Assert.Throws<InvalidOperationException>(() => set.Save(path));
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(good));
            Assert.That(Directory.GetFiles(dir), Is.EquivalentTo(new[] { path }), "no temporary file is left behind");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Save_ExceptionDuringTheWrite_LeavesThePreviousFileIntact()
    {
        string dir = TemporaryDirectory();
        try
        {
            string path = Path.Combine(dir, "model.json");
            var set = new ParameterSet<double>();
            set.Add("layer.weight", new Shape(64, 64));
            set.Values.Fill(0.25);
            set.Save(path);
            byte[] good = File.ReadAllBytes(path);

            set.Values.Fill(-1.5);
            var ex = Assert.Throws<IOException>(() => set.SaveAtomically(path, s => new FailingStream(s, failAfterBytes: 100)));
            Assert.That(ex!.Message, Does.Contain("injected"));
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(good));
            Assert.That(Directory.GetFiles(dir), Is.EquivalentTo(new[] { path }), "the temporary file is deleted");

            set.Save(path);
            var reloaded = new ParameterSet<double>();
            reloaded.Add("layer.weight", new Shape(64, 64));
            reloaded.Load(path);
            Assert.That(reloaded.Values.ToArray(), Is.All.EqualTo(-1.5), "a later save replaces the file");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestCase("1e400")]
    [TestCase("-1e400")]
    public void Load_ValueNotFiniteAsDouble_ThrowsNamingParameterAndIndex_AndLeavesTheSetUnchanged(string number)
    {
        var set = new ParameterSet<double>();
        set.Add("a", new Shape(1, 2));
        set.Add("b", new Shape(1, 3));
        set.Values.Fill(7.0);
        string json = "{\"arrays\": {\"a\": {\"shape\": [2], \"data\": [1, 2]}, \"b\": {\"shape\": [3], \"data\": [1, " + number + ", 3]}}}";
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
        var ex = Assert.Throws<InvalidDataException>(() => set.Load(stream));
        Assert.That(ex!.Message, Does.Contain("'b'").And.Contain("index 1").And.Contain("finite"));
        Assert.That(set.Values.ToArray(), Is.All.EqualTo(7.0));
    }

    [Test]
    public void Load_ValueNotFiniteAsFloat_ThrowsNamingParameterAndIndex_AndLeavesTheSetUnchanged()
    {
        var set = new ParameterSet<float>();
        set.Add("w", new Shape(1, 3));
        set.Values.Fill(7f);
        string json = "{\"arrays\": {\"w\": {\"shape\": [3], \"dtype\": \"float32\", \"data\": [1, 2, 1e300]}}}";
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
        var ex = Assert.Throws<InvalidDataException>(() => set.Load(stream));
        Assert.That(ex!.Message, Does.Contain("'w'").And.Contain("index 2"));
        Assert.That(set.Values.ToArray(), Is.All.EqualTo(7f));
    }

    /// <summary>Passes writes through until a byte budget is spent, then throws (a disk that fills mid-write).</summary>
    private sealed class FailingStream(Stream inner, int failAfterBytes) : Stream
    {
        private int written;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (written + buffer.Length > failAfterBytes)
            {
                inner.Write(buffer[..Math.Max(0, failAfterBytes - written)]);
                throw new IOException("injected failure during the write");
            }
            inner.Write(buffer);
            written += buffer.Length;
        }
    }
}
