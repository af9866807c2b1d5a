using System.Numerics;

namespace NeuralOde.AutoDiff;

/// <summary>A named array read from a tensor file: its shape as written (any rank) and its flat row-major data.</summary>
/// <typeparam name="T">The element type the data were converted to.</typeparam>
public sealed class TensorArray<T>
    where T : unmanaged, INumberBase<T>
{
    internal TensorArray(string name, int[] shape, T[] data)
    {
        Name = name;
        Shape = shape;
        Data = data;
    }

    /// <summary>The array's name, or its path inside the file for nested arrays (e.g. <c>expected.backprop.grads.net.0.weight</c>).</summary>
    public string Name { get; }

    /// <summary>The shape as written in the file (an empty list for a scalar).</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>The elements in row-major order; the array is the caller's to keep or modify.</summary>
#pragma warning disable CA1819 // A flat buffer handed to spans and solvers: copying it behind a property would defeat its purpose.
    public T[] Data { get; }
#pragma warning restore CA1819

    /// <summary>The number of elements, the product of <see cref="Shape"/>.</summary>
    public int Length => Data.Length;

    /// <summary>The shape read as a matrix: the last dimension is the columns, the product of the others the rows (a 1-D [n] is 1 × n, a scalar 1 × 1).</summary>
    /// <returns>The matrix shape.</returns>
    public Shape AsMatrix()
    {
        if (Shape.Count == 0) return new Shape(1, 1);
        int cols = Shape[^1];
        return new Shape(cols == 0 ? 0 : Data.Length / cols, cols);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}
