using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralOde.AutoDiff.Optim;

/// <summary>The moment update and parameter step that <see cref="Adam{T}"/> and <see cref="AdamW{T}"/> share.</summary>
internal static class AdamUpdate
{
    /// <summary>
    /// m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; θ −= (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε),
    /// in the order torch.optim.Adam evaluates it (ε after the square root and the bias correction).
    /// </summary>
    /// <param name="values">θ, updated in place.</param>
    /// <param name="gradients">g.</param>
    /// <param name="firstMoment">m.</param>
    /// <param name="secondMoment">v.</param>
    /// <param name="work">Scratch of the same length; it may be the very storage of <paramref name="gradients"/> (g is read before the scratch is written).</param>
    /// <param name="step">t, counted from 1.</param>
    /// <param name="learningRate">lr.</param>
    /// <param name="beta1">β1.</param>
    /// <param name="beta2">β2.</param>
    /// <param name="epsilon">ε.</param>
    public static void Apply<T>(
        Span<T> values, ReadOnlySpan<T> gradients, Span<T> firstMoment, Span<T> secondMoment, Span<T> work,
        long step, double learningRate, double beta1, double beta2, double epsilon)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Lerp(firstMoment, gradients, T.CreateChecked(1 - beta1), firstMoment);
        TensorPrimitives.Multiply(gradients, gradients, work);
        TensorPrimitives.Multiply(work, T.CreateChecked(1 - beta2), work);
        TensorPrimitives.MultiplyAdd(secondMoment, T.CreateChecked(beta2), work, secondMoment);

        double biasCorrection1 = 1 - Math.Pow(beta1, step);
        double biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, step));
        double stepSize = learningRate / biasCorrection1;

        TensorPrimitives.Sqrt(secondMoment, work);
        TensorPrimitives.Divide(work, T.CreateChecked(biasCorrection2Sqrt), work);
        TensorPrimitives.Add(work, T.CreateChecked(epsilon), work);
        TensorPrimitives.Divide(firstMoment, work, work);
        TensorPrimitives.MultiplyAdd(work, T.CreateChecked(-stepSize), values, values);
    }
}
