using System.Numerics;

namespace NeuralOde.AutoDiff;

/// <summary>A named view of one tensor inside a <see cref="ParameterSet{T}"/>'s flat value and gradient vectors.</summary>
public sealed class Parameter<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    internal Parameter(ParameterSet<T> set, string name, Shape shape, int offset)
    {
        Set = set;
        Name = name;
        Shape = shape;
        Offset = offset;
    }

    /// <summary>The set that owns the storage.</summary>
    public ParameterSet<T> Set { get; }

    /// <summary>The name, e.g. <c>net.0.weight</c> (PyTorch's naming, so fixtures load by name).</summary>
    public string Name { get; }

    /// <summary>The shape; a weight is [out, in] as in PyTorch, a bias 1 × out.</summary>
    public Shape Shape { get; }

    /// <summary>The number of elements.</summary>
    public int Length => Shape.Length;

    /// <summary>Where the tensor starts in the set's flat vectors.</summary>
    public int Offset { get; }

    /// <summary>The values, a slice of <see cref="ParameterSet{T}.Values"/>.</summary>
    public Span<T> Value => Set.Values.Slice(Offset, Length);

    /// <summary>The gradients, a slice of <see cref="ParameterSet{T}.Gradients"/>.</summary>
    public Span<T> Gradient => Set.Gradients.Slice(Offset, Length);

    /// <inheritdoc/>
    public override string ToString() => $"{Name} [{Shape}]";
}
