using NeuralOde.Core.Data;
using NeuralOde.Examples.App;

namespace NeuralOde.Examples.Examples;

/// <summary>Fashion-MNIST from IDX files (gzip-compressed or plain), as scaled float images (see <see cref="Scalings"/>) and int labels.</summary>
internal sealed record FashionMnist(float[] TrainImages, int[] TrainLabels, float[] TestImages, int[] TestLabels)
{
    public const string DefaultFolder = "/usr/share/datasets/fashion-mnist";
    public const int Pixels = 28 * 28, Classes = 10;

    // Fashion-MNIST's training-set pixel mean and standard deviation (on the 0..1 scale).
    private const float Mean = 0.2860f, Deviation = 0.3530f;

    // The smallest deviation a pixel is divided by under per-pixel scaling (on the 0..1 scale).
    private const double MinimumDeviation = 0.05;

    // ZCA's ε, added to each eigenvalue of the training covariance (0..1 scale): of 0.01, 0.1, 0.3, 1 and 3, 0.3 gave the best classify accuracy.
    private const double ZcaEpsilon = 0.3;

    /// <summary>The pixel scalings <see cref="Load"/> offers: global (the constants above), pixel (each pixel's training-set mean and deviation), unit ([0, 1]) or zca (whitening with the training covariance, the default).</summary>
    public static readonly string[] Scalings = ["global", "pixel", "unit", "zca"];

    public static readonly string[] FileNames = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    public int TrainCount => TrainLabels.Length;

    public int TestCount => TestLabels.Length;

    public static string InstallHint(string folder) => $"""
        Fashion-MNIST was not found in '{folder}'.
        It needs the four IDX files {string.Join(", ", FileNames)} (each plain or with .gz).
        On Debian or Ubuntu: sudo apt-get update && sudo apt-get install dataset-fashion-mnist   (installs them in {DefaultFolder})
        or pass --data DIR with a folder that holds them.
        """;

    /// <summary>Loads the four files from <paramref name="folder"/> and scales the pixels as <paramref name="scaling"/> names; a missing folder or file is an <see cref="ExampleException"/> with the install hint.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was signalled (checked between files and between blocks of the whitening).</exception>
    public static FashionMnist Load(string folder, string scaling, CancellationToken cancellation = default)
    {
        var paths = FileNames.Select(name => Find(folder, name)).ToArray();
        if (!Directory.Exists(folder) || paths.Any(p => p is null)) throw new ExampleException(InstallHint(folder), ExitCodes.MissingData);
        cancellation.ThrowIfCancellationRequested();
        var (trainImages, trainLabels) = Pair(paths[0]!, paths[1]!);
        cancellation.ThrowIfCancellationRequested();
        var (testImages, testLabels) = Pair(paths[2]!, paths[3]!);
        cancellation.ThrowIfCancellationRequested();
        switch (scaling)
        {
            case "global":
                foreach (var images in new[] { trainImages, testImages }) for (int i = 0; i < images.Length; i++) images[i] = (images[i] - Mean) / Deviation;
                break;
            case "pixel":
                StandardizePerPixel(trainImages, testImages);
                break;
            case "unit":
                break;
            case "zca":
                ZcaWhitening.Apply(trainImages, Pixels, ZcaEpsilon, cancellation, trainImages, testImages);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(scaling), scaling, $"One of {string.Join(", ", Scalings)}.");
        }
        return new FashionMnist(trainImages, trainLabels, testImages, testLabels);
    }

    /// <summary>Each pixel less its training-set mean, over its training-set deviation (at least <see cref="MinimumDeviation"/>, for pixels that hardly vary).</summary>
    private static void StandardizePerPixel(float[] train, float[] test)
    {
        int count = train.Length / Pixels;
        var mean = new double[Pixels];
        var square = new double[Pixels];
        for (int n = 0; n < count; n++)
        {
            for (int p = 0; p < Pixels; p++)
            {
                double v = train[n * Pixels + p];
                mean[p] += v;
                square[p] += v * v;
            }
        }
        var shift = new float[Pixels];
        var scale = new float[Pixels];
        for (int p = 0; p < Pixels; p++)
        {
            double m = mean[p] / Math.Max(1, count);
            double deviation = Math.Sqrt(Math.Max(0, square[p] / Math.Max(1, count) - m * m));
            shift[p] = (float)m;
            scale[p] = (float)(1 / Math.Max(deviation, MinimumDeviation));
        }
        foreach (var images in new[] { train, test })
        {
            for (int i = 0; i < images.Length; i++) images[i] = (images[i] - shift[i % Pixels]) * scale[i % Pixels];
        }
    }

    private static string? Find(string folder, string name)
    {
        foreach (string candidate in new[] { name + ".gz", name })
        {
            string path = Path.Combine(folder, candidate);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    private static (float[] Images, int[] Labels) Pair(string imagesPath, string labelsPath)
    {
        var images = IdxReader.Read(imagesPath);
        var labels = IdxReader.Read(labelsPath);
        if (images.Dimensions.Length != 3 || images.ItemLength != Pixels)
            throw new InvalidDataException($"'{imagesPath}' holds {string.Join("×", images.Dimensions)} values; 28×28 images are expected.");
        if (labels.Dimensions.Length != 1 || labels.Count != images.Count)
            throw new InvalidDataException($"'{labelsPath}' holds {string.Join("×", labels.Dimensions)} labels for {images.Count} images.");
        var pixels = new float[images.Data.Length];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = images.Data[i] / 255f;
        var classes = new int[labels.Count];
        for (int i = 0; i < classes.Length; i++)
        {
            classes[i] = labels.Data[i];
            if (classes[i] >= Classes) throw new InvalidDataException($"'{labelsPath}' holds label {classes[i]} at {i}; labels are 0 to 9.");
        }
        return (pixels, classes);
    }
}
