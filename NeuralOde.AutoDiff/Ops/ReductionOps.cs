using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralOde.AutoDiff;

public static partial class Ops
{
    /// <summary>The sum of all elements, 1 × 1.</summary>
    /// <param name="x">The operand.</param>
    /// <returns>The sum.</returns>
    public static Var<T> Sum<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Reduce(x, OpKind.Sum, mean: false);

    /// <summary>The mean of all elements, 1 × 1.</summary>
    /// <param name="x">The operand.</param>
    /// <returns>The mean.</returns>
    public static Var<T> Mean<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Reduce(x, OpKind.Sum, mean: true);

    /// <summary>The sum of each row, R × 1.</summary>
    /// <param name="x">An R × C value.</param>
    /// <returns>The row sums.</returns>
    public static Var<T> SumRows<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Reduce(x, OpKind.SumRows, mean: false);

    /// <summary>The mean of each row, R × 1.</summary>
    /// <param name="x">An R × C value.</param>
    /// <returns>The row means.</returns>
    public static Var<T> MeanRows<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Reduce(x, OpKind.SumRows, mean: true);

    /// <summary>The sum of each column, 1 × C.</summary>
    /// <param name="x">An R × C value.</param>
    /// <returns>The column sums.</returns>
    public static Var<T> SumColumns<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Reduce(x, OpKind.SumColumns, mean: false);

    /// <summary>The mean of each column, 1 × C.</summary>
    /// <param name="x">An R × C value.</param>
    /// <returns>The column means.</returns>
    public static Var<T> MeanColumns<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Reduce(x, OpKind.SumColumns, mean: true);

    /// <summary>The row-wise dot product Σ_c a[r, c]·b[r, c], R × 1.</summary>
    /// <param name="a">An R × C value.</param>
    /// <param name="b">An R × C value.</param>
    /// <returns>The R × 1 dot products.</returns>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static Var<T> RowDot<T>(Var<T> a, Var<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (tape, ia, ib) = Pair(a, b, nameof(RowDot), sameShape: true);
        var s = tape.Node(ia).Shape;
        int index = tape.Push(OpKind.RowDot, new Shape(s.Rows, 1), AnyRequiresGrad(tape, ia, ib), ia, ib);
        ReadOnlySpan<T> av = tape.Value(ia), bv = tape.Value(ib);
        var y = tape.Value(index);
        for (int r = 0; r < s.Rows; r++) y[r] = TensorPrimitives.Dot(av.Slice(r * s.Cols, s.Cols), bv.Slice(r * s.Cols, s.Cols));
        return tape.Handle(index);
    }

    private static Var<T> Reduce<T>(Var<T> x, OpKind op, bool mean)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(x, nameof(x));
        int ix = tape.Check(x, nameof(x));
        var s = tape.Node(ix).Shape;
        var shape = op switch
        {
            OpKind.Sum => Shape.Scalar,
            OpKind.SumRows => new Shape(s.Rows, 1),
            _ => new Shape(1, s.Cols),
        };
        int reduced = op switch { OpKind.Sum => s.Length, OpKind.SumRows => s.Cols, _ => s.Rows };
        double factor = mean ? 1.0 / Math.Max(1, reduced) : 1.0;
        int index = tape.Push(op, shape, tape.RequiresGrad(ix), ix);
        tape.Node(index).Scalar = factor;
        T f = T.CreateTruncating(factor);
        ReadOnlySpan<T> xv = tape.Value(ix);
        var y = tape.Value(index);
        switch (op)
        {
            case OpKind.Sum:
                y[0] = TensorPrimitives.Sum(xv) * f;
                break;
            case OpKind.SumRows:
                for (int r = 0; r < s.Rows; r++) y[r] = TensorPrimitives.Sum(xv.Slice(r * s.Cols, s.Cols)) * f;
                break;
            default:
                y.Clear();
                AccumulateColumnSums(xv, s.Rows, s.Cols, y);
                TensorPrimitives.Multiply(y, f, y);
                break;
        }
        return tape.Handle(index);
    }

    internal static void ReductionBackward<T>(Tape<T> tape, int index)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var node = ref tape.Node(index);
        ReadOnlySpan<T> g = tape.GradSpan(index);
        int a = node.Input0;
        var s = tape.Node(a).Shape;
        T f = T.CreateTruncating(node.Scalar);
        switch (node.Op)
        {
            case OpKind.Sum:
            { var ga = tape.GradSpan(a); TensorPrimitives.Add(ga, g[0] * f, ga); break; }
            case OpKind.SumRows:
            {
                var ga = tape.GradSpan(a);
                for (int r = 0; r < s.Rows; r++) { var row = ga.Slice(r * s.Cols, s.Cols); TensorPrimitives.Add(row, g[r] * f, row); }
                break;
            }
            case OpKind.SumColumns:
            {
                var ga = tape.GradSpan(a);
                for (int r = 0; r < s.Rows; r++) { var row = ga.Slice(r * s.Cols, s.Cols); TensorPrimitives.MultiplyAdd(g, f, row, row); }
                break;
            }
            case OpKind.RowDot:
            {
                int b = node.Input1;
                ReadOnlySpan<T> av = tape.Value(a), bv = tape.Value(b);
                Span<T> ga = tape.RequiresGrad(a) ? tape.GradSpan(a) : default;
                Span<T> gb = tape.RequiresGrad(b) ? tape.GradSpan(b) : default;
                for (int r = 0; r < s.Rows; r++)
                {
                    var range = new Range(r * s.Cols, (r + 1) * s.Cols);
                    if (!ga.IsEmpty) TensorPrimitives.MultiplyAdd(bv[range], g[r], ga[range], ga[range]);
                    if (!gb.IsEmpty) TensorPrimitives.MultiplyAdd(av[range], g[r], gb[range], gb[range]);
                }
                break;
            }
        }
    }
}
