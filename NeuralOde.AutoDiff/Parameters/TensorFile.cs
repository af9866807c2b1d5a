using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace NeuralOde.AutoDiff;

/// <summary>
/// A JSON tensor file (the library's format for parameters, easy to write from a PyTorch state_dict): a top-level object whose <c>"arrays"</c> maps names to
/// <c>{ "shape": [..], "dtype": "float32" | "float64" | "int64", "data": [flat row-major numbers] }</c>.
/// Other top-level members (such as a fixture's <c>"expected"</c> results) are reachable through <see cref="ReadTensor{T}"/>.
/// </summary>
/// <remarks>
/// Numbers are parsed as <see cref="double"/> and then converted to the requested type, so a float32 value written
/// as the shortest decimal of its exact double value comes back with the same bits. The file is parsed once when
/// opened; reading arrays afterwards does not touch the disk.
/// </remarks>
public sealed class TensorFile : IDisposable
{
    /// <summary>The member that holds the named arrays.</summary>
    public const string ArraysMember = "arrays";

    private readonly JsonDocument document;

    private TensorFile(JsonDocument document, string source)
    {
        this.document = document;
        Source = source;
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{source}: the top level is a JSON {document.RootElement.ValueKind}, not an object.");
    }

    /// <summary>Where the file came from (a path, or "stream"), for messages.</summary>
    public string Source { get; }

    /// <summary>The parsed top-level object, for members this class does not interpret.</summary>
    public JsonElement Root => document.RootElement;

    /// <summary>The names in <c>"arrays"</c>, in file order (empty when the file has no such member).</summary>
    public IEnumerable<string> ArrayNames =>
        Root.TryGetProperty(ArraysMember, out var arrays) && arrays.ValueKind == JsonValueKind.Object
            ? arrays.EnumerateObject().Select(p => p.Name)
            : [];

    /// <summary>Opens and parses a file.</summary>
    /// <param name="path">The file's path.</param>
    /// <returns>The parsed file; dispose it when done.</returns>
    /// <exception cref="InvalidDataException">The file is not a JSON object.</exception>
    public static TensorFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        return Parse(stream, path);
    }

    /// <summary>Parses a tensor file from a stream (read to its end, not closed).</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="source">A name for the stream in messages.</param>
    /// <returns>The parsed file; dispose it when done.</returns>
    /// <exception cref="InvalidDataException">The content is not a JSON object.</exception>
    public static TensorFile Parse(Stream stream, string source = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON ({e.Message}).", e);
        }
        try
        {
            return new TensorFile(document, source);
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    /// <summary>Reads one named array of a file: a convenience for <see cref="Open"/> then <see cref="ReadArray{T}(string)"/>.</summary>
    /// <typeparam name="T">The element type to convert to.</typeparam>
    /// <param name="path">The file's path.</param>
    /// <param name="name">The array's name in <c>"arrays"</c>, e.g. <c>x_batch</c>.</param>
    /// <returns>The array.</returns>
    public static TensorArray<T> ReadArray<T>(string path, string name)
        where T : unmanaged, INumberBase<T>
    {
        using var file = Open(path);
        return file.ReadArray<T>(name);
    }

    /// <summary>Whether <c>"arrays"</c> holds an array called <paramref name="name"/>.</summary>
    /// <param name="name">The name.</param>
    /// <returns>True if it exists.</returns>
    public bool ContainsArray(string name) =>
        Root.TryGetProperty(ArraysMember, out var arrays) && arrays.ValueKind == JsonValueKind.Object && arrays.TryGetProperty(name, out _);

    /// <summary>Reads the array called <paramref name="name"/> from <c>"arrays"</c>.</summary>
    /// <typeparam name="T">The element type to convert to.</typeparam>
    /// <param name="name">The name.</param>
    /// <returns>The array.</returns>
    /// <exception cref="KeyNotFoundException">There is no such array.</exception>
    /// <exception cref="InvalidDataException">The entry is malformed (shape and data disagree, a value is not a number, ...).</exception>
    public TensorArray<T> ReadArray<T>(string name)
        where T : unmanaged, INumberBase<T> =>
        ReadTensor<T>(ArraysMember, name);

    /// <summary>
    /// Reads the <c>{ "shape", "data" }</c> object at a path of member names from the top level, e.g.
    /// <c>ReadTensor&lt;double&gt;("expected", "backprop", "grads", "net.0.weight")</c>.
    /// </summary>
    /// <typeparam name="T">The element type to convert to.</typeparam>
    /// <param name="path">Member names from the top-level object down to the tensor object.</param>
    /// <returns>The array, named by the dotted path.</returns>
    /// <exception cref="KeyNotFoundException">A member on the path is missing.</exception>
    /// <exception cref="InvalidDataException">The entry is malformed.</exception>
    public TensorArray<T> ReadTensor<T>(params string[] path)
        where T : unmanaged, INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0) throw new ArgumentException("The path names no member.", nameof(path));
        var element = Root;
        for (int i = 0; i < path.Length; i++)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(path[i], out var next))
            {
                string where = i == 0 ? "the top level" : $"'{string.Join('.', path[..i])}'";
                string known = element.ValueKind == JsonValueKind.Object ? string.Join(", ", element.EnumerateObject().Select(p => p.Name)) : "(not an object)";
                throw new KeyNotFoundException($"{Source}: {where} has no member '{path[i]}'. Known: {known}.");
            }
            element = next;
        }
        string name = path.Length == 2 && path[0] == ArraysMember ? path[1] : string.Join('.', path);
        int[] shape = ReadShape(element, name);
        T[] data = new T[ElementCount(shape, name)];
        ReadData(element, name, data);
        return new TensorArray<T>(name, shape, data);
    }

    /// <summary>The entry for <paramref name="name"/> in <c>"arrays"</c>, or false.</summary>
    internal bool TryGetArray(string name, out JsonElement entry)
    {
        entry = default;
        return Root.TryGetProperty(ArraysMember, out var arrays) && arrays.ValueKind == JsonValueKind.Object && arrays.TryGetProperty(name, out entry);
    }

    /// <summary>Reads and checks the <c>"shape"</c> member of a tensor entry.</summary>
    internal int[] ReadShape(JsonElement entry, string name)
    {
        if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{Source}: tensor '{name}' has no \"shape\" array.");
        var shape = new int[shapeElement.GetArrayLength()];
        int i = 0;
        foreach (var size in shapeElement.EnumerateArray())
        {
            if (size.ValueKind != JsonValueKind.Number || !size.TryGetInt32(out shape[i]) || shape[i] < 0)
                throw new InvalidDataException($"{Source}: tensor '{name}' has the invalid size {size.GetRawText()} in its shape.");
            i++;
        }
        return shape;
    }

    /// <summary>Reads the <c>"data"</c> member of a tensor entry into <paramref name="destination"/>, whose length must be the data's.</summary>
    internal void ReadData<T>(JsonElement entry, string name, Span<T> destination)
        where T : INumberBase<T>
    {
        if (!entry.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{Source}: tensor '{name}' has no \"data\" array.");
        if (entry.TryGetProperty("dtype", out var dtype) && (dtype.ValueKind != JsonValueKind.String || dtype.GetString() is not ("float32" or "float64" or "int64" or "int32")))
            throw new InvalidDataException($"{Source}: tensor '{name}' has the unsupported dtype {dtype.GetRawText()}; expected float32, float64, int64 or int32.");
        int count = data.GetArrayLength();
        if (count != destination.Length)
            throw new InvalidDataException($"{Source}: tensor '{name}' has {count} data values but its shape holds {destination.Length}.");
        int i = 0;
        foreach (var value in data.EnumerateArray())
        {
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double x))
                throw new InvalidDataException($"{Source}: tensor '{name}' has the non-numeric value {value.GetRawText()} at index {i.ToString(CultureInfo.InvariantCulture)}.");
            destination[i++] = T.CreateChecked(x);
        }
    }

    private int ElementCount(int[] shape, string name)
    {
        long count = 1;
        foreach (int size in shape)
        {
            count *= size;
            if (count > Array.MaxLength) throw new InvalidDataException($"{Source}: tensor '{name}' has the shape [{string.Join(", ", shape)}], too large for one array.");
        }
        return (int)count;
    }

    /// <inheritdoc/>
    public void Dispose() => document.Dispose();
}
