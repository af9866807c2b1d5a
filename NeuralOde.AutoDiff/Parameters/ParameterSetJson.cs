using System.Numerics;
using System.Text.Json;

namespace NeuralOde.AutoDiff;

/// <summary>
/// Writes and reads a <see cref="ParameterSet{T}"/> as a JSON tensor file (names, shapes, dtypes and flat data, the
/// layout a few lines of Python write from a PyTorch state_dict), so saved models and weights exported from PyTorch
/// load through the same code (see <see cref="TensorFile"/> for the schema).
/// </summary>
internal static class ParameterSetJson
{
    private const string Layout = "row-major (C order); a weight is [out, in] and a layer computes y = x W^T + b";

    /// <summary>
    /// Writes every tensor under <c>"arrays"</c> with its two-dimensional shape [rows, cols]. Each value is written as
    /// the shortest decimal of its exact <see cref="double"/> value, the fixtures' convention: parsing it as a double and
    /// converting back to <typeparamref name="T"/> restores the same bits.
    /// </summary>
    public static void Write<T>(ParameterSet<T> set, Stream stream)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        string dtype = typeof(T) == typeof(float) ? "float32" : typeof(T) == typeof(double) ? "float64" : typeof(T).Name;
        CheckFinite(set);

        using var writer = new Utf8JsonWriter(stream);
        writer.WriteStartObject();
        writer.WriteString("layout", Layout);
        writer.WriteStartObject(TensorFile.ArraysMember);
        foreach (var p in set.Parameters)
        {
            writer.WriteStartObject(p.Name);
            writer.WriteStartArray("shape");
            writer.WriteNumberValue(p.Shape.Rows);
            writer.WriteNumberValue(p.Shape.Cols);
            writer.WriteEndArray();
            writer.WriteString("dtype", dtype);
            writer.WriteStartArray("data");
            foreach (var x in p.Value) writer.WriteNumberValue(double.CreateChecked(x));
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Throws if any value is not finite: JSON holds finite numbers only, so such a set cannot be saved.</summary>
    public static void CheckFinite<T>(ParameterSet<T> set)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var p in set.Parameters)
        {
            var value = p.Value;
            for (int i = 0; i < value.Length; i++)
            {
                if (!T.IsFinite(value[i]))
                    throw new InvalidOperationException($"Cannot save parameter '{p.Name}': element {i} is {value[i]}; JSON holds finite numbers only.");
            }
        }
    }

    /// <summary>
    /// Reads every tensor of the set by name from the file's <c>"arrays"</c> (other arrays are ignored). A 1-D shape
    /// [n] matches 1 × n, a 2-D [rows, cols] matches rows × cols. All names, shapes and values are checked before any value
    /// is written, so a failed load leaves the set unchanged.
    /// </summary>
    public static void Read<T>(ParameterSet<T> set, TensorFile file)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(file);
        var staged = new T[set.Length];
        foreach (var p in set.Parameters)
        {
            if (!file.TryGetArray(p.Name, out var entry))
            {
                string known = string.Join(", ", file.ArrayNames);
                throw new KeyNotFoundException($"{file.Source}: no array named '{p.Name}' for parameter '{p.Name}' ({p.Shape}). Arrays in the file: {(known.Length == 0 ? "none" : known)}.");
            }
            int[] shape = file.ReadShape(entry, p.Name);
            if (!Matches(shape, p.Shape))
                throw new InvalidDataException($"{file.Source}: parameter '{p.Name}' expects shape {p.Shape} but the file has [{string.Join(", ", shape)}].");
            var data = staged.AsSpan(p.Offset, p.Length);
            file.ReadData(entry, p.Name, data);
            for (int i = 0; i < data.Length; i++)
            {
                // A number too large for T (1e400 for a double, 1e300 for a float) converts to infinity: Save refuses
                // such values, so Load does too.
                if (!T.IsFinite(data[i]))
                    throw new InvalidDataException($"{file.Source}: parameter '{p.Name}' has a value at index {i} that is {data[i]} as {typeof(T).Name}; parameters must be finite.");
            }
        }
        staged.CopyTo(set.Values);
    }

    /// <summary>Whether a file shape fits a parameter: [n] as 1 × n, [] as 1 × 1, [rows, cols] exactly.</summary>
    private static bool Matches(int[] shape, Shape expected) => shape.Length switch
    {
        0 => expected.Rows == 1 && expected.Cols == 1,
        1 => expected.Rows == 1 && expected.Cols == shape[0],
        2 => expected.Rows == shape[0] && expected.Cols == shape[1],
        _ => false,
    };
}
