namespace NeuralOde.AutoDiff;

/// <summary>One recorded operation: what it was, its inputs and where its value and gradient live.</summary>
/// <remarks>
/// A value lives in the tape's value arena at (<see cref="ValueChunk"/>, <see cref="ValueOffset"/>); a negative chunk
/// −(s + 1) means the value is the flat array of the tape's s-th registered parameter set (a parameter leaf, never
/// copied), and <c>int.MinValue</c> marks a transient value (<see cref="Tape{T}.PushTransient"/>). The gradient buffer
/// is made lazily in the reverse sweep (chunk −1 until then).
/// </remarks>
internal struct TapeNode
{
    public OpKind Op;
    public bool RequiresGrad;
    public Shape Shape;
    public int Input0;
    public int Input1;
    public int Input2;
    public int ValueChunk;
    public int ValueOffset;
    public int GradChunk;
    public int GradOffset;
    /// <summary>An extra saved buffer (e.g. σ(x) for swish, labels for cross-entropy); chunk −1 when none.</summary>
    public int AuxChunk;
    public int AuxOffset;
    /// <summary>Integer arguments: activation kind, slice start, parameter-set index.</summary>
    public int IntArg0;
    public int IntArg1;
    /// <summary>A scalar argument (scale factor, added constant), kept in double.</summary>
    public double Scalar;
}
