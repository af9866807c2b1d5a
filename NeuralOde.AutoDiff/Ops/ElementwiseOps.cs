using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralOde.AutoDiff;

public static partial class Ops
{
    /// <summary>a + b, elementwise; both of one shape.</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand, of <paramref name="a"/>'s shape.</param>
    /// <returns>The sum.</returns>
    /// <exception cref="ArgumentException">The shapes differ or the operands live on different tapes.</exception>
    public static Var<T> Add<T>(Var<T> a, Var<T> b)
        where T : unmanaged, IFloatingPointIeee754<T> => BinarySameShape(a, b, OpKind.Add, nameof(Add));

    /// <summary>a − b, elementwise; both of one shape.</summary>
    /// <param name="a">The minuend.</param>
    /// <param name="b">The subtrahend, of <paramref name="a"/>'s shape.</param>
    /// <returns>The difference.</returns>
    /// <exception cref="ArgumentException">The shapes differ or the operands live on different tapes.</exception>
    public static Var<T> Subtract<T>(Var<T> a, Var<T> b)
        where T : unmanaged, IFloatingPointIeee754<T> => BinarySameShape(a, b, OpKind.Subtract, nameof(Subtract));

    /// <summary>a ⊙ b, the elementwise product; both of one shape.</summary>
    /// <param name="a">The first factor.</param>
    /// <param name="b">The second factor, of <paramref name="a"/>'s shape.</param>
    /// <returns>The product.</returns>
    /// <exception cref="ArgumentException">The shapes differ or the operands live on different tapes.</exception>
    public static Var<T> Multiply<T>(Var<T> a, Var<T> b)
        where T : unmanaged, IFloatingPointIeee754<T> => BinarySameShape(a, b, OpKind.Multiply, nameof(Multiply));

    /// <summary>a / b, elementwise; both of one shape.</summary>
    /// <param name="a">The dividend.</param>
    /// <param name="b">The divisor, of <paramref name="a"/>'s shape.</param>
    /// <returns>The quotient.</returns>
    /// <exception cref="ArgumentException">The shapes differ or the operands live on different tapes.</exception>
    public static Var<T> Divide<T>(Var<T> a, Var<T> b)
        where T : unmanaged, IFloatingPointIeee754<T> => BinarySameShape(a, b, OpKind.Divide, nameof(Divide));

    /// <summary>s · x for a constant s.</summary>
    /// <param name="x">The operand.</param>
    /// <param name="s">The constant factor.</param>
    /// <returns>The scaled value.</returns>
    public static Var<T> Scale<T>(Var<T> x, T s)
        where T : unmanaged, IFloatingPointIeee754<T> => UnaryWithScalar(x, s, OpKind.Scale);

    /// <summary>x + s for a constant s, added to every element.</summary>
    /// <param name="x">The operand.</param>
    /// <param name="s">The constant.</param>
    /// <returns>The shifted value.</returns>
    public static Var<T> AddScalar<T>(Var<T> x, T s)
        where T : unmanaged, IFloatingPointIeee754<T> => UnaryWithScalar(x, s, OpKind.AddScalar);

    /// <summary>−x.</summary>
    /// <param name="x">The operand.</param>
    /// <returns>The negation.</returns>
    public static Var<T> Negate<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Unary(x, OpKind.Negate);

    /// <summary>x², elementwise.</summary>
    /// <param name="x">The operand.</param>
    /// <returns>The square.</returns>
    public static Var<T> Square<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Unary(x, OpKind.Square);

    /// <summary>√x, elementwise (the gradient at 0 is infinite).</summary>
    /// <param name="x">The operand.</param>
    /// <returns>The square root.</returns>
    public static Var<T> Sqrt<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Unary(x, OpKind.Sqrt);

    /// <summary>eˣ, elementwise.</summary>
    /// <param name="x">The operand.</param>
    /// <returns>The exponential.</returns>
    public static Var<T> Exp<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Unary(x, OpKind.Exp);

    /// <summary>log x, elementwise.</summary>
    /// <param name="x">The operand.</param>
    /// <returns>The natural logarithm.</returns>
    public static Var<T> Log<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Unary(x, OpKind.Log);

    /// <summary>x + row, the 1 × C row added to each of x's R rows.</summary>
    /// <param name="x">An R × C value.</param>
    /// <param name="row">A 1 × C value.</param>
    /// <returns>The R × C sum.</returns>
    /// <exception cref="ArgumentException">The row's shape is not 1 × C.</exception>
    public static Var<T> AddRow<T>(Var<T> x, Var<T> row)
        where T : unmanaged, IFloatingPointIeee754<T> => RowBroadcast(x, row, OpKind.AddRow, nameof(AddRow));

    /// <summary>x ⊙ row, each of x's R rows multiplied elementwise by the 1 × C row.</summary>
    /// <param name="x">An R × C value.</param>
    /// <param name="row">A 1 × C value.</param>
    /// <returns>The R × C product.</returns>
    /// <exception cref="ArgumentException">The row's shape is not 1 × C.</exception>
    public static Var<T> MultiplyRow<T>(Var<T> x, Var<T> row)
        where T : unmanaged, IFloatingPointIeee754<T> => RowBroadcast(x, row, OpKind.MultiplyRow, nameof(MultiplyRow));

    /// <summary>x ⊙ column: row r of x multiplied by column[r].</summary>
    /// <param name="x">An R × C value.</param>
    /// <param name="column">An R × 1 value.</param>
    /// <returns>The R × C product.</returns>
    /// <exception cref="ArgumentException">The column's shape is not R × 1.</exception>
    public static Var<T> MultiplyColumn<T>(Var<T> x, Var<T> column)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (tape, ix, ic) = Pair(x, column, nameof(MultiplyColumn), sameShape: false);
        var shape = tape.Node(ix).Shape;
        if (tape.Node(ic).Shape != new Shape(shape.Rows, 1)) ThrowHelper.ShapeMismatch(nameof(column), tape.Node(ic).Shape, new Shape(shape.Rows, 1), nameof(MultiplyColumn));
        int index = tape.Push(OpKind.MultiplyColumn, shape, AnyRequiresGrad(tape, ix, ic), ix, ic);
        ReadOnlySpan<T> xv = tape.Value(ix), cv = tape.Value(ic);
        var y = tape.Value(index);
        for (int r = 0; r < shape.Rows; r++)
            TensorPrimitives.Multiply(xv.Slice(r * shape.Cols, shape.Cols), cv[r], y.Slice(r * shape.Cols, shape.Cols));
        return tape.Handle(index);
    }

    /// <summary>a ⊙ tile(b): a has K·R rows, b has R, and row block k of a is multiplied elementwise by b.</summary>
    /// <param name="a">A (K·R) × C value, e.g. K tangents of a batch stacked by rows.</param>
    /// <param name="b">An R × C value, e.g. an activation derivative of the batch.</param>
    /// <returns>The (K·R) × C product.</returns>
    /// <remarks>With K tangents stacked, one call applies σ'(x) to all of them (forward-mode through an activation).</remarks>
    /// <exception cref="ArgumentException">The columns differ or a's rows are not a multiple of b's.</exception>
    public static Var<T> MultiplyTiled<T>(Var<T> a, Var<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (tape, ia, ib) = Pair(a, b, nameof(MultiplyTiled), sameShape: false);
        Shape sa = tape.Node(ia).Shape, sb = tape.Node(ib).Shape;
        if (sa.Cols != sb.Cols || sb.Rows == 0 || sa.Rows % sb.Rows != 0)
            ThrowHelper.ShapeMismatch(nameof(b), $"{nameof(MultiplyTiled)}: {sa} needs a factor with {sa.Cols} columns and a row count dividing {sa.Rows}, not {sb}.");
        int index = tape.Push(OpKind.MultiplyTiled, sa, AnyRequiresGrad(tape, ia, ib), ia, ib);
        ReadOnlySpan<T> av = tape.Value(ia), bv = tape.Value(ib);
        var y = tape.Value(index);
        for (int start = 0; start < av.Length; start += bv.Length)
            TensorPrimitives.Multiply(av.Slice(start, bv.Length), bv, y.Slice(start, bv.Length));
        return tape.Handle(index);
    }

    /// <summary>The 1 × C row repeated <paramref name="rows"/> times.</summary>
    /// <param name="row">A 1 × C value.</param>
    /// <param name="rows">The number of rows of the result.</param>
    /// <returns>The rows × C value.</returns>
    /// <exception cref="ArgumentException">The input is not a single row, or <paramref name="rows"/> is negative.</exception>
    public static Var<T> BroadcastRows<T>(Var<T> row, int rows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(row, nameof(row));
        int ir = tape.Check(row, nameof(row));
        var rs = tape.Node(ir).Shape;
        if (rs.Rows != 1) ThrowHelper.ShapeMismatch(nameof(row), $"{nameof(BroadcastRows)} needs a single row, not {rs}.");
        var shape = Shape.Checked(rows, rs.Cols, nameof(rows));
        int index = tape.Push(OpKind.BroadcastRows, shape, tape.RequiresGrad(ir), ir);
        ReadOnlySpan<T> v = tape.Value(ir);
        var y = tape.Value(index);
        Kernels.RowKernels.RepeatRow(v, y, rows);
        return tape.Handle(index);
    }

    private static Var<T> BinarySameShape<T>(Var<T> a, Var<T> b, OpKind op, string operation)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (tape, ia, ib) = Pair(a, b, operation, sameShape: true);
        int index = tape.Push(op, tape.Node(ia).Shape, AnyRequiresGrad(tape, ia, ib), ia, ib);
        ReadOnlySpan<T> av = tape.Value(ia), bv = tape.Value(ib);
        var y = tape.Value(index);
        switch (op)
        {
            case OpKind.Add: TensorPrimitives.Add(av, bv, y); break;
            case OpKind.Subtract: TensorPrimitives.Subtract(av, bv, y); break;
            case OpKind.Multiply: TensorPrimitives.Multiply(av, bv, y); break;
            default: TensorPrimitives.Divide(av, bv, y); break;
        }
        return tape.Handle(index);
    }

    private static Var<T> UnaryWithScalar<T>(Var<T> x, T s, OpKind op)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(x, nameof(x));
        int ix = tape.Check(x, nameof(x));
        int index = tape.Push(op, tape.Node(ix).Shape, tape.RequiresGrad(ix), ix);
        tape.Node(index).Scalar = double.CreateTruncating(s);
        ReadOnlySpan<T> xv = tape.Value(ix);
        var y = tape.Value(index);
        if (op == OpKind.Scale) TensorPrimitives.Multiply(xv, s, y);
        else TensorPrimitives.Add(xv, s, y);
        return tape.Handle(index);
    }

    private static Var<T> Unary<T>(Var<T> x, OpKind op)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(x, nameof(x));
        int ix = tape.Check(x, nameof(x));
        int index = tape.Push(op, tape.Node(ix).Shape, tape.RequiresGrad(ix), ix);
        ReadOnlySpan<T> xv = tape.Value(ix);
        var y = tape.Value(index);
        switch (op)
        {
            case OpKind.Negate: TensorPrimitives.Negate(xv, y); break;
            case OpKind.Square: TensorPrimitives.Multiply(xv, xv, y); break;
            case OpKind.Sqrt: TensorPrimitives.Sqrt(xv, y); break;
            case OpKind.Exp: TensorPrimitives.Exp(xv, y); break;
            default: TensorPrimitives.Log(xv, y); break;
        }
        return tape.Handle(index);
    }

    private static Var<T> RowBroadcast<T>(Var<T> x, Var<T> row, OpKind op, string operation)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (tape, ix, ir) = Pair(x, row, operation, sameShape: false);
        var shape = tape.Node(ix).Shape;
        if (tape.Node(ir).Shape != new Shape(1, shape.Cols)) ThrowHelper.ShapeMismatch(nameof(row), tape.Node(ir).Shape, new Shape(1, shape.Cols), operation);
        int index = tape.Push(op, shape, AnyRequiresGrad(tape, ix, ir), ix, ir);
        ReadOnlySpan<T> xv = tape.Value(ix), rv = tape.Value(ir);
        var y = tape.Value(index);
        for (int r = 0; r < shape.Rows; r++)
        {
            var xr = xv.Slice(r * shape.Cols, shape.Cols);
            var yr = y.Slice(r * shape.Cols, shape.Cols);
            if (op == OpKind.AddRow) TensorPrimitives.Add(xr, rv, yr);
            else TensorPrimitives.Multiply(xr, rv, yr);
        }
        return tape.Handle(index);
    }

    internal static void ElementwiseBackward<T>(Tape<T> tape, int index)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var node = ref tape.Node(index);
        ReadOnlySpan<T> g = tape.GradSpan(index);
        int a = node.Input0, b = node.Input1;
        T s = T.CreateTruncating(node.Scalar);
        switch (node.Op)
        {
            case OpKind.Add:
                if (tape.RequiresGrad(a)) AddInto(tape.GradSpan(a), g);
                if (tape.RequiresGrad(b)) AddInto(tape.GradSpan(b), g);
                break;
            case OpKind.Subtract:
                if (tape.RequiresGrad(a)) AddInto(tape.GradSpan(a), g);
                if (tape.RequiresGrad(b)) { var gb = tape.GradSpan(b); TensorPrimitives.Subtract(gb, g, gb); }
                break;
            case OpKind.Multiply:
                if (tape.RequiresGrad(a)) { var ga = tape.GradSpan(a); TensorPrimitives.MultiplyAdd(g, tape.Value(b), ga, ga); }
                if (tape.RequiresGrad(b)) { var gb = tape.GradSpan(b); TensorPrimitives.MultiplyAdd(g, tape.Value(a), gb, gb); }
                break;
            case OpKind.Divide:
            {
                // y = a / b: ∂y/∂a = 1/b, ∂y/∂b = −y/b.
                var q = tape.Scratch(g.Length);
                TensorPrimitives.Divide(g, tape.Value(b), q);
                if (tape.RequiresGrad(a)) AddInto(tape.GradSpan(a), q);
                if (tape.RequiresGrad(b))
                {
                    var gb = tape.GradSpan(b);
                    TensorPrimitives.Multiply(q, tape.Value(index), q);
                    TensorPrimitives.Subtract(gb, q, gb);
                }
                break;
            }
            case OpKind.Scale:
            { var ga = tape.GradSpan(a); TensorPrimitives.MultiplyAdd(g, s, ga, ga); break; }
            case OpKind.AddScalar:
                AddInto(tape.GradSpan(a), g);
                break;
            case OpKind.Negate:
            { var ga = tape.GradSpan(a); TensorPrimitives.Subtract(ga, g, ga); break; }
            case OpKind.Square:
            {
                // y = x²: ∂y/∂x = 2x.
                var q = tape.Scratch(g.Length);
                TensorPrimitives.Multiply(g, tape.Value(a), q);
                var ga = tape.GradSpan(a);
                TensorPrimitives.MultiplyAdd(q, T.CreateTruncating(2), ga, ga);
                break;
            }
            case OpKind.Sqrt:
            {
                // y = √x: ∂y/∂x = 1/(2y).
                var q = tape.Scratch(g.Length);
                TensorPrimitives.Divide(g, tape.Value(index), q);
                var ga = tape.GradSpan(a);
                TensorPrimitives.MultiplyAdd(q, T.CreateTruncating(0.5), ga, ga);
                break;
            }
            case OpKind.Exp:
            { var ga = tape.GradSpan(a); TensorPrimitives.MultiplyAdd(g, tape.Value(index), ga, ga); break; }
            case OpKind.Log:
            {
                var q = tape.Scratch(g.Length);
                TensorPrimitives.Divide(g, tape.Value(a), q);
                AddInto(tape.GradSpan(a), q);
                break;
            }
            case OpKind.AddRow:
            {
                var shape = node.Shape;
                if (tape.RequiresGrad(a)) AddInto(tape.GradSpan(a), g);
                if (tape.RequiresGrad(b)) AccumulateColumnSums(g, shape.Rows, shape.Cols, tape.GradSpan(b));
                break;
            }
            case OpKind.MultiplyRow:
            {
                var shape = node.Shape;
                ReadOnlySpan<T> xv = tape.Value(a), rv = tape.Value(b);
                Span<T> ga = tape.RequiresGrad(a) ? tape.GradSpan(a) : default;
                Span<T> gr = tape.RequiresGrad(b) ? tape.GradSpan(b) : default;
                for (int r = 0; r < shape.Rows; r++)
                {
                    var gRow = g.Slice(r * shape.Cols, shape.Cols);
                    if (!ga.IsEmpty) { var gaRow = ga.Slice(r * shape.Cols, shape.Cols); TensorPrimitives.MultiplyAdd(gRow, rv, gaRow, gaRow); }
                    if (!gr.IsEmpty) TensorPrimitives.MultiplyAdd(gRow, xv.Slice(r * shape.Cols, shape.Cols), gr, gr);
                }
                break;
            }
            case OpKind.MultiplyColumn:
            {
                var shape = node.Shape;
                ReadOnlySpan<T> xv = tape.Value(a), cv = tape.Value(b);
                Span<T> ga = tape.RequiresGrad(a) ? tape.GradSpan(a) : default;
                Span<T> gc = tape.RequiresGrad(b) ? tape.GradSpan(b) : default;
                for (int r = 0; r < shape.Rows; r++)
                {
                    var gRow = g.Slice(r * shape.Cols, shape.Cols);
                    if (!ga.IsEmpty) { var gaRow = ga.Slice(r * shape.Cols, shape.Cols); TensorPrimitives.MultiplyAdd(gRow, cv[r], gaRow, gaRow); }
                    if (!gc.IsEmpty) gc[r] += TensorPrimitives.Dot(gRow, xv.Slice(r * shape.Cols, shape.Cols));
                }
                break;
            }
            case OpKind.MultiplyTiled:
            {
                ReadOnlySpan<T> av = tape.Value(a), bv = tape.Value(b);
                Span<T> ga = tape.RequiresGrad(a) ? tape.GradSpan(a) : default;
                Span<T> gb = tape.RequiresGrad(b) ? tape.GradSpan(b) : default;
                for (int start = 0; start < av.Length; start += bv.Length)
                {
                    var gBlock = g.Slice(start, bv.Length);
                    if (!ga.IsEmpty) { var gaBlock = ga.Slice(start, bv.Length); TensorPrimitives.MultiplyAdd(gBlock, bv, gaBlock, gaBlock); }
                    if (!gb.IsEmpty) TensorPrimitives.MultiplyAdd(gBlock, av.Slice(start, bv.Length), gb, gb);
                }
                break;
            }
            case OpKind.BroadcastRows:
                AccumulateColumnSums(g, node.Shape.Rows, node.Shape.Cols, tape.GradSpan(a));
                break;
        }
    }

    private static void AddInto<T>(Span<T> destination, ReadOnlySpan<T> addend)
        where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Add(destination, addend, destination);
}
