using NeuralOde.Core.Data;
using NeuralOde.Examples.App;

namespace NeuralOde.Examples.Examples;

/// <summary>Fashion-MNIST from IDX files (gzip-compressed or plain), as normalised float images and int labels.</summary>
internal sealed record FashionMnist(float[] TrainImages, int[] TrainLabels, float[] TestImages, int[] TestLabels)
{
    public const string DefaultFolder = "/usr/share/datasets/fashion-mnist";
    public const int Pixels = 28 * 28, Classes = 10;

    // Fashion-MNIST's training-set pixel mean and standard deviation (on the 0..1 scale).
    private const float Mean = 0.2860f, Deviation = 0.3530f;

    public static readonly string[] FileNames = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    public int TrainCount => TrainLabels.Length;

    public int TestCount => TestLabels.Length;

    public static string InstallHint(string folder) => $"""
        Fashion-MNIST was not found in '{folder}'.
        It needs the four IDX files {string.Join(", ", FileNames)} (each plain or with .gz).
        On Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist   (installs them in {DefaultFolder})
        or pass --data DIR with a folder that holds them.
        """;

    /// <summary>Loads the four files from <paramref name="folder"/>; a missing folder or file is an <see cref="ExampleException"/> with the install hint.</summary>
    public static FashionMnist Load(string folder)
    {
        var paths = FileNames.Select(name => Find(folder, name)).ToArray();
        if (!Directory.Exists(folder) || paths.Any(p => p is null)) throw new ExampleException(InstallHint(folder), ExitCodes.MissingData);
        var (trainImages, trainLabels) = Pair(paths[0]!, paths[1]!);
        var (testImages, testLabels) = Pair(paths[2]!, paths[3]!);
        return new FashionMnist(trainImages, trainLabels, testImages, testLabels);
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
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (images.Data[i] / 255f - Mean) / Deviation;
        var classes = new int[labels.Count];
        for (int i = 0; i < classes.Length; i++)
        {
            classes[i] = labels.Data[i];
            if (classes[i] >= Classes) throw new InvalidDataException($"'{labelsPath}' holds label {classes[i]} at {i}; labels are 0 to 9.");
        }
        return (pixels, classes);
    }
}
