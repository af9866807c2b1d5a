using System.Numerics;

namespace NeuralOde.AutoDiff;

/// <summary>All of a model's parameters as one flat value vector and one flat gradient vector, with named views.</summary>
/// <remarks>
/// Layers add their tensors while the model is built; the storage grows by copying until the set is first used by a
/// tape, an optimizer or a caller that takes its spans, after which it is frozen and adding throws. One flat vector
/// lets an adjoint state a_θ, a seminorm mask, an optimizer, gradient clipping and fixture loading all address the
/// same layout.
/// </remarks>
public sealed class ParameterSet<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<Parameter<T>> parameters = [];
    private readonly Dictionary<string, Parameter<T>> byName = new(StringComparer.Ordinal);
    private T[] values = [];
    private T[] gradients = [];
    private int length;

    /// <summary>The total number of scalar parameters.</summary>
    public int Length => length;

    /// <summary>Whether tensors can no longer be added.</summary>
    public bool IsFrozen { get; private set; }

    /// <summary>The tensors, in the order they were added.</summary>
    public IReadOnlyList<Parameter<T>> Parameters => parameters;

    /// <summary>All values as one flat vector (freezes the set).</summary>
    public Span<T> Values
    {
        get
        {
            IsFrozen = true;
            return values.AsSpan(0, length);
        }
    }

    /// <summary>All gradients as one flat vector, laid out as <see cref="Values"/> (freezes the set).</summary>
    public Span<T> Gradients
    {
        get
        {
            IsFrozen = true;
            return gradients.AsSpan(0, length);
        }
    }

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <param name="name">The tensor's name.</param>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public Parameter<T> this[string name] =>
        byName.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"No parameter is named '{name}'. Known: {string.Join(", ", byName.Keys)}.");

    /// <summary>Adds a zero-initialised tensor.</summary>
    /// <param name="name">A unique name.</param>
    /// <param name="shape">Its shape.</param>
    /// <returns>The view of the new tensor.</returns>
    /// <exception cref="InvalidOperationException">The set is frozen.</exception>
    /// <exception cref="ArgumentException">The name is empty or taken, or the shape is empty.</exception>
    public Parameter<T> Add(string name, Shape shape)
    {
        if (IsFrozen) throw new InvalidOperationException($"Cannot add '{name}': the parameter set is frozen once a tape, an optimizer or a caller has used its storage.");
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (byName.ContainsKey(name)) throw new ArgumentException($"A parameter named '{name}' already exists.", nameof(name));
        if (shape.Length <= 0) throw new ArgumentException($"Parameter '{name}' has the empty shape {shape}.", nameof(shape));
        int needed = checked(length + shape.Length);
        if (needed > values.Length)
        {
            int capacity = Math.Max(needed, values.Length * 2);
            Array.Resize(ref values, capacity);
            Array.Resize(ref gradients, capacity);
        }
        var p = new Parameter<T>(this, name, shape, length);
        length = needed;
        parameters.Add(p);
        byName.Add(name, p);
        return p;
    }

    /// <summary>Whether a tensor called <paramref name="name"/> exists.</summary>
    /// <param name="name">The name.</param>
    /// <returns>True if it exists.</returns>
    public bool Contains(string name) => byName.ContainsKey(name);

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients() => Gradients.Clear();

    /// <summary>The tensor holding flat index <paramref name="flatIndex"/> and the index inside it.</summary>
    internal (string Name, int Index) Locate(int flatIndex)
    {
        foreach (var p in parameters)
        {
            if (flatIndex >= p.Offset && flatIndex < p.Offset + p.Length) return (p.Name, flatIndex - p.Offset);
        }
        return ("(outside every tensor)", flatIndex);
    }

    /// <summary>A tensor's values while the model is being built, without freezing the set (for initialisers).</summary>
    internal Span<T> ValuesWhileBuilding(Parameter<T> p) => values.AsSpan(p.Offset, p.Length);

    /// <summary>Writes the values as a JSON tensor file (see <see cref="TensorFile"/>; freezes the set), atomically.</summary>
    /// <remarks>
    /// The values are checked before anything is written; the JSON goes to a temporary file beside
    /// <paramref name="path"/>, is flushed to disk and then renamed over it. A refused save, an exception or a crash
    /// during the write leaves an existing file at <paramref name="path"/> as it was (the temporary file is deleted
    /// when the failure is an exception).
    /// </remarks>
    /// <param name="path">The file to create or overwrite.</param>
    /// <exception cref="InvalidOperationException">A value is not finite; no file is touched.</exception>
    public void Save(string path) => SaveAtomically(path, static s => s);

    /// <summary>
    /// <see cref="Save(string)"/> with the temporary file's stream passed through <paramref name="wrap"/> before the
    /// JSON is written (tests inject a failing stream there).
    /// </summary>
    internal void SaveAtomically(string path, Func<Stream, Stream> wrap)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ParameterSetJson.CheckFinite(this);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                var stream = wrap(file);
                ParameterSetJson.Write(this, stream);
                stream.Flush();
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temporary);
            }
            catch (IOException)
            {
                // The original failure is the one to report; a temporary file that cannot be removed is left beside the target.
            }
            catch (UnauthorizedAccessException)
            {
                // As above.
            }
            throw;
        }
    }

    /// <summary>Writes the values as a JSON tensor file to a stream, left open (freezes the set).</summary>
    /// <param name="stream">The destination.</param>
    /// <exception cref="InvalidOperationException">A value is not finite.</exception>
    public void Save(Stream stream) => ParameterSetJson.Write(this, stream);

    /// <summary>Reads every tensor by name from a JSON tensor file (see <see cref="TensorFile"/>; freezes the set).</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="KeyNotFoundException">The file has no array for a parameter.</exception>
    /// <exception cref="InvalidDataException">An array's shape does not match its parameter's, a value is not finite in the set's type, or the file is malformed.</exception>
    public void Load(string path)
    {
        using var file = TensorFile.Open(path);
        ParameterSetJson.Read(this, file);
    }

    /// <summary>Reads every tensor by name from a stream holding a JSON tensor file (freezes the set).</summary>
    /// <param name="stream">The source, read to its end and left open.</param>
    /// <exception cref="KeyNotFoundException">The stream has no array for a parameter.</exception>
    /// <exception cref="InvalidDataException">An array's shape does not match its parameter's, a value is not finite in the set's type, or the content is malformed.</exception>
    public void Load(Stream stream)
    {
        using var file = TensorFile.Parse(stream);
        ParameterSetJson.Read(this, file);
    }

    /// <summary>Reads every tensor by name from an open tensor file (freezes the set); extra arrays are ignored.</summary>
    /// <param name="file">The file.</param>
    /// <exception cref="KeyNotFoundException">The file has no array for a parameter.</exception>
    /// <exception cref="InvalidDataException">An array's shape does not match its parameter's, or a value is not finite in the set's type.</exception>
    public void Load(TensorFile file) => ParameterSetJson.Read(this, file);

    /// <summary>Freezes the set and returns the backing arrays (the tape references them without copying).</summary>
    internal T[] FrozenValues
    {
        get
        {
            IsFrozen = true;
            return values;
        }
    }

    internal T[] FrozenGradients
    {
        get
        {
            IsFrozen = true;
            return gradients;
        }
    }
}
