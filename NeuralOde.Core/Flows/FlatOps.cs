using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.AutoDiff;

namespace NeuralOde.Core.Flows;

/// <summary>Views of a flat augmented state on the tape: a contiguous range read as a matrix, and matrices packed into one column.</summary>
/// <remarks>
/// A CNF's state is the blocks [z (B·D), Δ (B), regulariser integrals (B each)] laid out contiguously, so the
/// block-RMS error norm sees each block as torchdiffeq sees a tuple component. The network needs z as B × D, so
/// these two ops move between the flat column and the blocks; both copy forward and add backward.
/// </remarks>
internal static class FlatOps
{
    /// <summary>Elements [start, start + shape.Length) of x (row-major), read as a value of <paramref name="shape"/>.</summary>
    public static Var<T> View<T>(Var<T> x, int start, Shape shape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = x.Tape;
        int ix = tape.Check(x, nameof(x));
        if (start < 0 || start + shape.Length > tape.Node(ix).Shape.Length)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"[{start}, {start + shape.Length}) does not lie within a value of {tape.Node(ix).Shape.Length} elements.");
        int index = tape.PushCustom(ViewNode<T>.Instance, shape, tape.RequiresGrad(ix), ix);
        tape.Node(index).IntArg1 = start;
        tape.Value(ix).Slice(start, shape.Length).CopyTo(tape.Value(index));
        return tape.Handle(index);
    }

    /// <summary>The elements of a, b and (optionally) c, one after another, as one (len a + len b + len c) × 1 column.</summary>
    public static Var<T> Pack<T>(Var<T> a, Var<T> b, Var<T>? c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = a.Tape;
        int ia = tape.Check(a, nameof(a)), ib = tape.Check(b, nameof(b));
        int ic = c is { } cv ? tape.Check(cv, nameof(c)) : -1;
        int la = tape.Node(ia).Shape.Length, lb = tape.Node(ib).Shape.Length, lc = ic >= 0 ? tape.Node(ic).Shape.Length : 0;
        bool requiresGrad = tape.RequiresGrad(ia) || tape.RequiresGrad(ib) || (ic >= 0 && tape.RequiresGrad(ic));
        int index = tape.PushCustom(PackNode<T>.Instance, new Shape(la + lb + lc, 1), requiresGrad, ia, ib, ic);
        var y = tape.Value(index);
        tape.Value(ia).CopyTo(y);
        tape.Value(ib).CopyTo(y[la..]);
        if (ic >= 0) tape.Value(ic).CopyTo(y[(la + lb)..]);
        return tape.Handle(index);
    }

    private sealed class ViewNode<T> : ICustomBackward<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static readonly ViewNode<T> Instance = new();

        public void Backward(Tape<T> tape, int index)
        {
            ref var node = ref tape.Node(index);
            int input = node.Input0;
            if (!tape.RequiresGrad(input)) return;
            ReadOnlySpan<T> g = tape.Gradient(index);
            var dst = tape.Gradient(input).Slice(node.IntArg1, g.Length);
            TensorPrimitives.Add(dst, g, dst);
        }
    }

    private sealed class PackNode<T> : ICustomBackward<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static readonly PackNode<T> Instance = new();

        public void Backward(Tape<T> tape, int index)
        {
            ref var node = ref tape.Node(index);
            ReadOnlySpan<T> g = tape.Gradient(index);
            int offset = 0;
            foreach (int input in (ReadOnlySpan<int>)[node.Input0, node.Input1, node.Input2])
            {
                if (input < 0) break;
                int length = tape.Node(input).Shape.Length;
                if (tape.RequiresGrad(input))
                {
                    var dst = tape.Gradient(input);
                    TensorPrimitives.Add(dst, g.Slice(offset, length), dst);
                }
                offset += length;
            }
        }
    }
}
