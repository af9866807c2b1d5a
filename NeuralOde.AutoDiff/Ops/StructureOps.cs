using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralOde.AutoDiff;

public static partial class Ops
{
    /// <summary>[a, b]: the columns of b appended to those of a, row by row.</summary>
    /// <param name="a">An R × Ca value.</param>
    /// <param name="b">An R × Cb value.</param>
    /// <returns>The R × (Ca + Cb) value.</returns>
    /// <exception cref="ArgumentException">The row counts differ.</exception>
    public static Var<T> ConcatColumns<T>(Var<T> a, Var<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (tape, ia, ib) = Pair(a, b, nameof(ConcatColumns), sameShape: false);
        Shape sa = tape.Node(ia).Shape, sb = tape.Node(ib).Shape;
        if (sa.Rows != sb.Rows) ThrowHelper.ShapeMismatch(nameof(b), $"{nameof(ConcatColumns)}: {sa} and {sb} need the same number of rows.");
        var shape = new Shape(sa.Rows, sa.Cols + sb.Cols);
        int index = tape.Push(OpKind.ConcatColumns, shape, AnyRequiresGrad(tape, ia, ib), ia, ib);
        ReadOnlySpan<T> av = tape.Value(ia), bv = tape.Value(ib);
        var y = tape.Value(index);
        for (int r = 0; r < shape.Rows; r++)
        {
            av.Slice(r * sa.Cols, sa.Cols).CopyTo(y.Slice(r * shape.Cols, sa.Cols));
            bv.Slice(r * sb.Cols, sb.Cols).CopyTo(y.Slice(r * shape.Cols + sa.Cols, sb.Cols));
        }
        return tape.Handle(index);
    }

    /// <summary>Columns [start, start + count) of x.</summary>
    /// <param name="x">An R × C value.</param>
    /// <param name="start">The first column.</param>
    /// <param name="count">How many columns.</param>
    /// <returns>The R × count value.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie within x's columns.</exception>
    public static Var<T> SliceColumns<T>(Var<T> x, int start, int count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(x, nameof(x));
        int ix = tape.Check(x, nameof(x));
        var s = tape.Node(ix).Shape;
        if (start < 0 || count < 0 || start + count > s.Cols)
            ThrowHelper.OutOfRange(nameof(start), start, $"Columns [{start}, {start + count}) do not lie within the {s.Cols} columns of a {s} value.");
        int index = tape.Push(OpKind.SliceColumns, new Shape(s.Rows, count), tape.RequiresGrad(ix), ix);
        tape.Node(index).IntArg0 = start;
        ReadOnlySpan<T> xv = tape.Value(ix);
        var y = tape.Value(index);
        for (int r = 0; r < s.Rows; r++) xv.Slice(r * s.Cols + start, count).CopyTo(y.Slice(r * count, count));
        return tape.Handle(index);
    }

    /// <summary>Rows [start, start + count) of x.</summary>
    /// <param name="x">An R × C value.</param>
    /// <param name="start">The first row.</param>
    /// <param name="count">How many rows.</param>
    /// <returns>The count × C value.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie within x's rows.</exception>
    public static Var<T> SliceRows<T>(Var<T> x, int start, int count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(x, nameof(x));
        int ix = tape.Check(x, nameof(x));
        var s = tape.Node(ix).Shape;
        if (start < 0 || count < 0 || start + count > s.Rows)
            ThrowHelper.OutOfRange(nameof(start), start, $"Rows [{start}, {start + count}) do not lie within the {s.Rows} rows of a {s} value.");
        int index = tape.Push(OpKind.SliceRows, new Shape(count, s.Cols), tape.RequiresGrad(ix), ix);
        tape.Node(index).IntArg0 = start;
        tape.Value(ix).Slice(start * s.Cols, count * s.Cols).CopyTo(tape.Value(index));
        return tape.Handle(index);
    }

    internal static void StructureBackward<T>(Tape<T> tape, int index)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var node = ref tape.Node(index);
        ReadOnlySpan<T> g = tape.GradSpan(index);
        var shape = node.Shape;
        int a = node.Input0;
        var sa = tape.Node(a).Shape;
        if (node.Op == OpKind.SliceRows)
        {
            var dst = tape.GradSpan(a).Slice(node.IntArg0 * sa.Cols, g.Length);
            TensorPrimitives.Add(dst, g, dst);
            return;
        }
        if (node.Op == OpKind.SliceColumns)
        {
            var ga = tape.GradSpan(a);
            int start = node.IntArg0;
            for (int r = 0; r < shape.Rows; r++)
            {
                var dst = ga.Slice(r * sa.Cols + start, shape.Cols);
                TensorPrimitives.Add(dst, g.Slice(r * shape.Cols, shape.Cols), dst);
            }
            return;
        }

        int b = node.Input1;
        int cb = shape.Cols - sa.Cols;
        Span<T> gaAll = tape.RequiresGrad(a) ? tape.GradSpan(a) : default;
        Span<T> gbAll = tape.RequiresGrad(b) ? tape.GradSpan(b) : default;
        for (int r = 0; r < shape.Rows; r++)
        {
            if (!gaAll.IsEmpty) { var d = gaAll.Slice(r * sa.Cols, sa.Cols); TensorPrimitives.Add(d, g.Slice(r * shape.Cols, sa.Cols), d); }
            if (!gbAll.IsEmpty) { var d = gbAll.Slice(r * cb, cb); TensorPrimitives.Add(d, g.Slice(r * shape.Cols + sa.Cols, cb), d); }
        }
    }
}
