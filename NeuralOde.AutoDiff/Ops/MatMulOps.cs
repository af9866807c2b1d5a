using System.Numerics;
using NeuralOde.AutoDiff.Kernels;

namespace NeuralOde.AutoDiff;

public static partial class Ops
{
    /// <summary>The matrix product a·b.</summary>
    /// <param name="a">An m × k value.</param>
    /// <param name="b">A k × n value.</param>
    /// <returns>The m × n product.</returns>
    /// <exception cref="ArgumentException">The inner sizes differ.</exception>
    public static Var<T> MatMul<T>(Var<T> a, Var<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (tape, ia, ib) = Pair(a, b, nameof(MatMul), sameShape: false);
        Shape sa = tape.Node(ia).Shape, sb = tape.Node(ib).Shape;
        if (sa.Cols != sb.Rows) ThrowHelper.ShapeMismatch(nameof(b), $"{nameof(MatMul)}: {sa} · {sb} needs the inner sizes to agree ({sa.Cols} ≠ {sb.Rows}).");
        int index = tape.Push(OpKind.MatMul, new Shape(sa.Rows, sb.Cols), AnyRequiresGrad(tape, ia, ib), ia, ib);
        Gemm.MultiplyNN<T>(tape.Value(ia), tape.Value(ib), tape.Value(index), sa.Rows, sa.Cols, sb.Cols, accumulate: false);
        return tape.Handle(index);
    }

    /// <summary>A dense layer σ(x·Wᵀ + b) as one fused node that keeps only x (an input) and its output.</summary>
    /// <param name="x">The input, B × in.</param>
    /// <param name="weight">The weight, out × in (PyTorch's layout).</param>
    /// <param name="bias">The bias, 1 × out, or null for none.</param>
    /// <param name="activation">The activation applied to the affine map (identity for none).</param>
    /// <returns>The B × out output.</returns>
    /// <remarks>
    /// Backward: with ḡ = g ⊙ σ'(y) (σ' written from the output y), ∂W += ḡᵀ·x, ∂b += Σ_rows ḡ and ∂x += ḡ·W; the
    /// products run as TN and NN kernels, so no transpose is ever copied.
    /// </remarks>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public static Var<T> Linear<T>(Var<T> x, Var<T> weight, Var<T>? bias, Activation activation = Activation.Identity)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        PushLinear(x, weight, bias, activation, transient: false);

    /// <summary>
    /// σ₂(σ₁(x·W₁ᵀ + b₁)·W₂ᵀ + b₂): two <see cref="Linear{T}"/> nodes whose hidden value is not kept but recomputed in the
    /// reverse sweep (the same kernels on the same inputs, so the same bits). Worth it when x is narrow: the recompute
    /// costs in·hidden multiply–adds a row, while keeping the hidden value costs hidden elements a row of memory, written
    /// once and read back from DRAM after a long recording.
    /// </summary>
    internal static Var<T> LinearPairRecomputingHidden<T>(Var<T> x, Var<T> weight1, Var<T>? bias1, Activation activation1, Var<T> weight2, Var<T>? bias2, Activation activation2)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        PushLinear(PushLinear(x, weight1, bias1, activation1, transient: true), weight2, bias2, activation2, transient: false);

    /// <summary>Recomputes the value of transient Linear node <paramref name="index"/> from its inputs.</summary>
    internal static void RecomputeTransient<T>(Tape<T> tape, int index)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var node = ref tape.Node(index);
        if (node.Op != OpKind.Linear) throw new InvalidOperationException($"Only Linear nodes are recorded transient, not {node.Op}.");
        Shape sx = tape.Node(node.Input0).Shape, sw = tape.Node(node.Input1).Shape;
        LinearForward(tape.Value(node.Input0), tape.Value(node.Input1), node.Input2 >= 0 ? tape.Value(node.Input2) : default, tape.Value(index), sx.Rows, sx.Cols, sw.Rows, (Activation)node.IntArg0);
    }

    private static Var<T> PushLinear<T>(Var<T> x, Var<T> weight, Var<T>? bias, Activation activation, bool transient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (tape, ix, iw) = Pair(x, weight, nameof(Linear), sameShape: false);
        Shape sx = tape.Node(ix).Shape, sw = tape.Node(iw).Shape;
        if (sx.Cols != sw.Cols) ThrowHelper.ShapeMismatch(nameof(weight), $"{nameof(Linear)}: input {sx} needs a weight of {sx.Cols} columns (out × in), not {sw}.");
        int ib = -1;
        if (bias is { } bv)
        {
            if (!ReferenceEquals(bv.Tape, tape)) ThrowHelper.ForeignHandle(nameof(bias));
            ib = tape.Check(bv, nameof(bias));
            if (tape.Node(ib).Shape != new Shape(1, sw.Rows)) ThrowHelper.ShapeMismatch(nameof(bias), tape.Node(ib).Shape, new Shape(1, sw.Rows), nameof(Linear));
        }
        var shape = new Shape(sx.Rows, sw.Rows);
        bool requiresGrad = AnyRequiresGrad(tape, ix, iw, ib);
        int index = transient
            ? tape.PushTransient(OpKind.Linear, shape, requiresGrad, ix, iw, ib)
            : tape.Push(OpKind.Linear, shape, requiresGrad, ix, iw, ib);
        tape.Node(index).IntArg0 = (int)activation;
        var y = tape.Value(index);
        LinearForward(tape.Value(ix), tape.Value(iw), ib >= 0 ? tape.Value(ib) : default, y, sx.Rows, sx.Cols, sw.Rows, activation);
        return tape.Handle(index);
    }

    /// <summary>y = σ(x·Wᵀ + b) for a B × in input and an out × in weight, without a tape.</summary>
    internal static void LinearForward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, Span<T> y, int rows, int inputs, int outputs, Activation activation)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool hasBias = !bias.IsEmpty;
        if (hasBias) RowKernels.RepeatRow(bias, y, rows);
        Gemm.MultiplyNT(x, weight, y, rows, inputs, outputs, accumulate: hasBias);
        ActivateInPlace(y, y, activation);
    }

    internal static void MatMulBackward<T>(Tape<T> tape, int index)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var node = ref tape.Node(index);
        ReadOnlySpan<T> g = tape.GradSpan(index);
        int a = node.Input0, b = node.Input1;
        Shape sa = tape.Node(a).Shape, sb = tape.Node(b).Shape;
        int m = sa.Rows, k = sa.Cols, n = sb.Cols;
        if (node.Op == OpKind.MatMul)
        {
            // y = a·b: ∂a += g·bᵀ (NT), ∂b += aᵀ·g (TN).
            if (tape.RequiresGrad(a)) Gemm.MultiplyNT(g, tape.Value(b), tape.GradSpan(a), m, n, k, accumulate: true);
            if (tape.RequiresGrad(b)) Gemm.MultiplyTN(tape.Value(a), g, tape.GradSpan(b), k, m, n, accumulate: true);
            return;
        }

        // Linear: x is B × in (m × k), W is out × in, y is B × out.
        int outputs = sb.Rows;
        var activation = (Activation)node.IntArg0;
        ReadOnlySpan<T> gPre = g;
        if (activation != Activation.Identity)
        {
            var scratch = tape.Scratch(g.Length);
            ApplyDerivative(ActivationFunction.GradientTimesDerivative, activation, g, tape.Value(index), scratch, accumulate: false);
            gPre = scratch;
        }
        if (tape.RequiresGrad(b)) Gemm.MultiplyTN(gPre, tape.Value(a), tape.GradSpan(b), outputs, m, k, accumulate: true);
        int bias = node.Input2;
        if (bias >= 0 && tape.RequiresGrad(bias)) AccumulateColumnSums(gPre, m, outputs, tape.GradSpan(bias));
        if (tape.RequiresGrad(a)) Gemm.MultiplyNN(gPre, tape.Value(b), tape.GradSpan(a), m, outputs, k, accumulate: true);
    }
}
