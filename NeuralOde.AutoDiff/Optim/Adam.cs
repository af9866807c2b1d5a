using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.AutoDiff.Optim;

/// <summary>
/// Adam (Kingma &amp; Ba 2015) with torch.optim.Adam's semantics: bias-corrected moments, ε added after the square
/// root, and <see cref="AdamBase{T}.WeightDecay"/> as the coupled L2 term g ← g + λθ applied before the moments (as
/// FFJORD trains). For decoupled weight decay use <see cref="AdamW{T}"/>.
/// </summary>
/// <typeparam name="T">The parameters' element type.</typeparam>
/// <param name="parameters">The parameters to update (the set is frozen).</param>
/// <param name="learningRate">lr, at least 0.</param>
/// <param name="beta1">β1, the first moment's decay, in [0, 1).</param>
/// <param name="beta2">β2, the second moment's decay, in [0, 1).</param>
/// <param name="epsilon">ε, added to the bias-corrected √v, at least 0.</param>
/// <param name="weightDecay">λ of the coupled L2 term, at least 0.</param>
public sealed class Adam<T>(ParameterSet<T> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
    : AdamBase<T>(parameters, learningRate, beta1, beta2, epsilon, weightDecay)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private protected override ReadOnlySpan<T> ApplyWeightDecay(Span<T> values, ReadOnlySpan<T> gradients, Span<T> work)
    {
        if (WeightDecay == 0) return gradients;
        // g + λθ lands in the scratch buffer, so the parameters' own gradients stay as the caller left them.
        TensorPrimitives.MultiplyAdd(values, T.CreateChecked(WeightDecay), gradients, work);
        return work;
    }
}
