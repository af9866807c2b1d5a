using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.AutoDiff.Optim;

/// <summary>
/// Adam (Kingma &amp; Ba 2015) with torch.optim.Adam's semantics: bias-corrected moments, ε added after the square
/// root, and <see cref="WeightDecay"/> as the coupled L2 term g ← g + λθ applied before the moments (as FFJORD
/// trains). For decoupled weight decay use <see cref="AdamW{T}"/>.
/// </summary>
/// <typeparam name="T">The parameters' element type.</typeparam>
public sealed class Adam<T> : IOptimizer
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterSet<T> parameters;
    private readonly T[] firstMoment;
    private readonly T[] secondMoment;
    private readonly T[] work;
    private double learningRate;

    /// <summary>Creates the optimizer and its state (freezes the set).</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">lr, at least 0.</param>
    /// <param name="beta1">β1, the first moment's decay, in [0, 1).</param>
    /// <param name="beta2">β2, the second moment's decay, in [0, 1).</param>
    /// <param name="epsilon">ε, added to the bias-corrected √v, at least 0.</param>
    /// <param name="weightDecay">λ of the coupled L2 term, at least 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyperparameter is outside its range or not finite.</exception>
    public Adam(ParameterSet<T> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        this.parameters = parameters;
        LearningRate = learningRate;
        Beta1 = OptimizerArguments.UnitInterval(beta1, nameof(beta1));
        Beta2 = OptimizerArguments.UnitInterval(beta2, nameof(beta2));
        Epsilon = OptimizerArguments.NonNegative(epsilon, nameof(epsilon));
        WeightDecay = OptimizerArguments.NonNegative(weightDecay, nameof(weightDecay));
        int n = parameters.Values.Length;
        firstMoment = new T[n];
        secondMoment = new T[n];
        work = new T[n];
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double LearningRate
    {
        get => learningRate;
        set => learningRate = OptimizerArguments.NonNegative(value, nameof(LearningRate));
    }

    /// <summary>β1, the first moment's decay.</summary>
    public double Beta1 { get; }

    /// <summary>β2, the second moment's decay.</summary>
    public double Beta2 { get; }

    /// <summary>ε, added after the square root.</summary>
    public double Epsilon { get; }

    /// <summary>λ of the coupled L2 term g + λθ.</summary>
    public double WeightDecay { get; }

    /// <inheritdoc/>
    public long StepCount { get; private set; }

    /// <inheritdoc/>
    public void Step()
    {
        var values = parameters.Values;
        ReadOnlySpan<T> gradients = parameters.Gradients;
        StepCount++;
        if (WeightDecay != 0)
        {
            // g + λθ lands in the scratch buffer, so the parameters' own gradients stay as the caller left them.
            TensorPrimitives.MultiplyAdd(values, T.CreateChecked(WeightDecay), gradients, work);
            gradients = work;
        }
        AdamUpdate.Apply(values, gradients, firstMoment, secondMoment, work, StepCount, learningRate, Beta1, Beta2, Epsilon);
    }

    /// <inheritdoc/>
    public void ZeroGradients() => parameters.ZeroGradients();
}
