using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.AutoDiff.Optim;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter 2019) with torch.optim.AdamW's semantics: θ ← θ·(1 − lr·λ) first (decoupled decay),
/// then the same bias-corrected Adam update as <see cref="Adam{T}"/>.
/// </summary>
/// <typeparam name="T">The parameters' element type.</typeparam>
/// <param name="parameters">The parameters to update (the set is frozen).</param>
/// <param name="learningRate">lr, at least 0.</param>
/// <param name="beta1">β1, the first moment's decay, in [0, 1).</param>
/// <param name="beta2">β2, the second moment's decay, in [0, 1).</param>
/// <param name="epsilon">ε, added to the bias-corrected √v, at least 0.</param>
/// <param name="weightDecay">λ of the decoupled decay, at least 0 (PyTorch's default 1e-2).</param>
public sealed class AdamW<T>(ParameterSet<T> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 1e-2)
    : AdamBase<T>(parameters, learningRate, beta1, beta2, epsilon, weightDecay)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private protected override ReadOnlySpan<T> ApplyWeightDecay(Span<T> values, ReadOnlySpan<T> gradients, Span<T> work)
    {
        if (WeightDecay != 0) TensorPrimitives.Multiply(values, T.CreateChecked(1 - (LearningRate * WeightDecay)), values);
        return gradients;
    }
}
