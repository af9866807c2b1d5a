using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralOde.AutoDiff;

public static partial class Ops
{
    /// <summary>mean((prediction − target)²) over all elements, 1 × 1.</summary>
    /// <param name="prediction">The prediction.</param>
    /// <param name="target">The target, of the prediction's shape (a constant or differentiable value).</param>
    /// <returns>The mean squared error.</returns>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static Var<T> MeanSquaredError<T>(Var<T> prediction, Var<T> target)
        where T : unmanaged, IFloatingPointIeee754<T> => PairLoss(prediction, target, OpKind.MeanSquaredError);

    /// <summary>mean(|prediction − target|) over all elements, 1 × 1 (gradient 0 where they are equal, as PyTorch).</summary>
    /// <param name="prediction">The prediction.</param>
    /// <param name="target">The target, of the prediction's shape.</param>
    /// <returns>The mean absolute error.</returns>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static Var<T> MeanAbsoluteError<T>(Var<T> prediction, Var<T> target)
        where T : unmanaged, IFloatingPointIeee754<T> => PairLoss(prediction, target, OpKind.MeanAbsoluteError);

    /// <summary>The mean over rows of −log softmax(logits)[label], computed stably; 1 × 1.</summary>
    /// <param name="logits">B × C unnormalised log-probabilities.</param>
    /// <param name="labels">B class indices in [0, C).</param>
    /// <returns>The mean cross-entropy.</returns>
    /// <exception cref="ArgumentException">The label count differs from B.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label lies outside [0, C).</exception>
    public static Var<T> SoftmaxCrossEntropy<T>(Var<T> logits, ReadOnlySpan<int> labels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(logits, nameof(logits));
        int il = tape.Check(logits, nameof(logits));
        var s = tape.Node(il).Shape;
        if (labels.Length != s.Rows) ThrowHelper.LengthMismatch(nameof(labels), labels.Length, s.Rows);
        for (int r = 0; r < labels.Length; r++)
        {
            if ((uint)labels[r] >= (uint)s.Cols) ThrowHelper.OutOfRange(nameof(labels), labels[r], $"Label {r} must lie in [0, {s.Cols}).");
        }
        int index = tape.Push(OpKind.SoftmaxCrossEntropy, Shape.Scalar, tape.RequiresGrad(il), il);
        // Aux: the softmax probabilities (B × C), then the labels as numbers (B).
        var aux = tape.AllocateAux(index, s.Length + s.Rows);
        var probabilities = aux[..s.Length];
        ReadOnlySpan<T> lv = tape.Value(il);
        T total = T.Zero;
        for (int r = 0; r < s.Rows; r++)
        {
            var row = lv.Slice(r * s.Cols, s.Cols);
            var p = probabilities.Slice(r * s.Cols, s.Cols);
            // −log softmax(x)[c] = log Σ exp(x − max) − (x[c] − max).
            T max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, p);
            TensorPrimitives.Exp(p, p);
            T sum = TensorPrimitives.Sum<T>(p);
            total += T.Log(sum) - (row[labels[r]] - max);
            TensorPrimitives.Divide(p, sum, p);
            aux[s.Length + r] = T.CreateTruncating(labels[r]);
        }
        tape.Value(index)[0] = total / T.CreateTruncating(Math.Max(1, s.Rows));
        return tape.Handle(index);
    }

    private static Var<T> PairLoss<T>(Var<T> prediction, Var<T> target, OpKind op)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (tape, ip, it) = Pair(prediction, target, op == OpKind.MeanSquaredError ? nameof(MeanSquaredError) : nameof(MeanAbsoluteError), sameShape: true);
        int index = tape.Push(op, Shape.Scalar, AnyRequiresGrad(tape, ip, it), ip, it);
        ReadOnlySpan<T> pv = tape.Value(ip), tv = tape.Value(it);
        int n = Math.Max(1, pv.Length);
        T sum = T.Zero;
        for (int i = 0; i < pv.Length; i++)
        {
            T d = pv[i] - tv[i];
            sum += op == OpKind.MeanSquaredError ? d * d : T.Abs(d);
        }
        tape.Value(index)[0] = sum / T.CreateTruncating(n);
        return tape.Handle(index);
    }

    internal static void LossBackward<T>(Tape<T> tape, int index)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var node = ref tape.Node(index);
        T g = tape.GradSpan(index)[0];
        int p = node.Input0;
        if (node.Op == OpKind.SoftmaxCrossEntropy)
        {
            // ∂/∂logits = (softmax − onehot(label)) / B.
            var s = tape.Node(p).Shape;
            ReadOnlySpan<T> aux = tape.Aux(index);
            var gl = tape.GradSpan(p);
            T scale = g / T.CreateTruncating(Math.Max(1, s.Rows));
            TensorPrimitives.MultiplyAdd(aux[..s.Length], scale, gl, gl);
            for (int r = 0; r < s.Rows; r++) gl[r * s.Cols + int.CreateTruncating(aux[s.Length + r])] -= scale;
            return;
        }

        int t = node.Input1;
        ReadOnlySpan<T> pv = tape.Value(p), tv = tape.Value(t);
        var d = tape.Scratch(pv.Length);
        TensorPrimitives.Subtract(pv, tv, d);
        T n = T.CreateTruncating(Math.Max(1, pv.Length));
        if (node.Op == OpKind.MeanSquaredError)
        {
            TensorPrimitives.Multiply(d, T.CreateTruncating(2) * g / n, d);
        }
        else
        {
            for (int i = 0; i < d.Length; i++) d[i] = T.IsZero(d[i]) ? T.Zero : T.CopySign(g / n, d[i]);
        }
        if (tape.RequiresGrad(p)) AddInto(tape.GradSpan(p), d);
        if (tape.RequiresGrad(t)) { var gt = tape.GradSpan(t); TensorPrimitives.Subtract(gt, d, gt); }
    }
}
