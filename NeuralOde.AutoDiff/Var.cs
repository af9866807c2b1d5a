using System.Numerics;

namespace NeuralOde.AutoDiff;

/// <summary>A handle to a value recorded on a <see cref="Tape{T}"/>: the tape, the node index and the tape's epoch.</summary>
/// <remarks>A handle is valid until the tape's next <see cref="Tape{T}.Reset"/>; using it afterwards throws.</remarks>
public readonly struct Var<T> : IEquatable<Var<T>>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    internal Var(Tape<T> tape, int index, int epoch)
    {
        Tape = tape;
        Index = index;
        Epoch = epoch;
    }

    /// <summary>The tape the value was recorded on.</summary>
    public Tape<T> Tape { get; }

    internal int Index { get; }

    internal int Epoch { get; }

    /// <summary>The value's shape.</summary>
    public Shape Shape => Tape.ShapeOf(this);

    /// <summary>The value (valid until the tape is reset).</summary>
    public ReadOnlySpan<T> Value => Tape.ValueOf(this);

    /// <summary>The gradient from the last reverse sweep (zeros where it did not reach).</summary>
    public ReadOnlySpan<T> Gradient => Tape.GradientOf(this);

    /// <summary>Elementwise sum.</summary>
    public static Var<T> operator +(Var<T> a, Var<T> b) => Ops.Add(a, b);

    /// <summary>Elementwise difference.</summary>
    public static Var<T> operator -(Var<T> a, Var<T> b) => Ops.Subtract(a, b);

    /// <summary>Elementwise (Hadamard) product.</summary>
    public static Var<T> operator *(Var<T> a, Var<T> b) => Ops.Multiply(a, b);

    /// <summary>Elementwise quotient.</summary>
    public static Var<T> operator /(Var<T> a, Var<T> b) => Ops.Divide(a, b);

    /// <summary>Negation.</summary>
    public static Var<T> operator -(Var<T> a) => Ops.Negate(a);

    /// <summary>Multiplication by a constant.</summary>
    public static Var<T> operator *(T s, Var<T> a) => Ops.Scale(a, s);

    /// <summary>Multiplication by a constant.</summary>
    public static Var<T> operator *(Var<T> a, T s) => Ops.Scale(a, s);

    /// <summary>Addition of a constant to every element.</summary>
    public static Var<T> operator +(Var<T> a, T s) => Ops.AddScalar(a, s);

    /// <inheritdoc/>
    public bool Equals(Var<T> other) => ReferenceEquals(Tape, other.Tape) && Index == other.Index && Epoch == other.Epoch;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Var<T> v && Equals(v);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Index, Epoch);

    /// <summary>Handle equality.</summary>
    public static bool operator ==(Var<T> left, Var<T> right) => left.Equals(right);

    /// <summary>Handle inequality.</summary>
    public static bool operator !=(Var<T> left, Var<T> right) => !left.Equals(right);
}
