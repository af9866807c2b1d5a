using System.IO.Compression;
using NeuralOde.Examples;
using SkiaSharp;

namespace NeuralOde.Tests.Examples;

/// <summary>Runs the examples app in-process into a string and a temporary output folder; checks PNGs by decoding them.</summary>
internal sealed class ExampleRun : IDisposable
{
    public ExampleRun() => Directory.CreateDirectory(Folder);

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "neuralode-examples-" + Guid.NewGuid().ToString("N"));

    public string Output { get; private set; } = "";

    public int Invoke(params string[] args) => Invoke(default, args);

    public int Invoke(CancellationToken cancellation, params string[] args)
    {
        using var writer = new StringWriter();
        int code = Program.Run(args, writer, cancellation);
        Output = writer.ToString();
        return code;
    }

    public int Smoke(params string[] args) => Invoke([.. args, "--smoke", "--out", Folder]);

    public void AssertPng(string fileName, int width = 800, int height = 600)
    {
        string path = Path.Combine(Folder, fileName);
        Assert.That(File.Exists(path), Is.True, $"{fileName} was not written. Output:\n{Output}");
        using var bitmap = SKBitmap.Decode(path);
        Assert.That(bitmap, Is.Not.Null, $"{fileName} does not decode as an image");
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((width, height)), fileName);
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>Writes small unsigned-byte IDX files (gzip-compressed or plain), independently of the reader under test.</summary>
internal static class IdxWriter
{
    public static void Write(string path, int[] dimensions, byte[] data, bool gzip)
    {
        using var file = File.Create(path);
        using Stream stream = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
        stream.Write([0, 0, 0x08, (byte)dimensions.Length]);
        foreach (int d in dimensions) stream.Write([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        stream.Write(data);
    }

    /// <summary>A tiny Fashion-MNIST look-alike: the label is which horizontal band of the image is bright, so it is learnable.</summary>
    public static void WriteDataset(string folder, int train, int test, bool gzip, int seed = 5)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(seed);
        foreach (var (prefix, count) in new[] { ("train", train), ("t10k", test) })
        {
            var images = new byte[count * 784];
            var labels = new byte[count];
            for (int i = 0; i < count; i++)
            {
                labels[i] = (byte)random.Next(10);
                for (int p = 0; p < 784; p++)
                {
                    int band = p / 28 * 10 / 28;
                    images[i * 784 + p] = (byte)(band == labels[i] ? 200 + random.Next(56) : random.Next(40));
                }
            }
            string suffix = gzip ? ".gz" : "";
            Write(Path.Combine(folder, $"{prefix}-images-idx3-ubyte{suffix}"), [count, 28, 28], images, gzip);
            Write(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte{suffix}"), [count], labels, gzip);
        }
    }
}
