using System.Numerics;

namespace NeuralOde.AutoDiff;

/// <summary>
/// The differentiable operations. Each records one node on its inputs' tape and computes the value now; its backward
/// (in the same file, beside it) adds the inputs' gradients in the reverse sweep.
/// </summary>
/// <remarks>Shapes follow the row-major convention of <see cref="Shape"/>: a batch of B samples of width D is B × D.</remarks>
public static partial class Ops
{
    private static Tape<T> TapeOf<T>(Var<T> x, string paramName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Tape is null) ThrowHelper.ForeignHandle(paramName);
        x.Tape.Check(x, paramName);
        return x.Tape;
    }

    /// <summary>Checks two operands live on one tape (and, optionally, share a shape); returns the tape and their indices.</summary>
    private static (Tape<T> Tape, int A, int B) Pair<T>(Var<T> a, Var<T> b, string operation, bool sameShape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(a, nameof(a));
        if (!ReferenceEquals(b.Tape, tape)) ThrowHelper.ForeignHandle(nameof(b));
        int ia = tape.Check(a, nameof(a));
        int ib = tape.Check(b, nameof(b));
        if (sameShape)
        {
            var sa = tape.Node(ia).Shape;
            var sb = tape.Node(ib).Shape;
            if (sa != sb) ThrowHelper.ShapeMismatch(nameof(b), sb, sa, operation);
        }
        return (tape, ia, ib);
    }

    private static bool AnyRequiresGrad<T>(Tape<T> tape, int a, int b = -1, int c = -1)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        tape.RequiresGrad(a) || (b >= 0 && tape.RequiresGrad(b)) || (c >= 0 && tape.RequiresGrad(c));

    /// <summary>gradient[c] += Σ_r g[r, c]: the backward of a row broadcast.</summary>
    private static void AccumulateColumnSums<T>(ReadOnlySpan<T> g, int rows, int cols, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Kernels.RowKernels.AddColumnSums(g, rows, cols, destination);
}
