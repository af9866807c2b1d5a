using System.Numerics;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.AutoDiff.Optim;

/// <summary>What <see cref="Adam{T}"/> and <see cref="AdamW{T}"/> share: the hyperparameters, the moment buffers and the bias-corrected update.</summary>
/// <typeparam name="T">The parameters' element type.</typeparam>
/// <remarks>The two differ only in how weight decay enters: coupled into the gradient (Adam) or decoupled on θ (AdamW).</remarks>
public abstract class AdamBase<T> : IOptimizer
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
    /// <param name="weightDecay">λ, at least 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyperparameter is outside its range or not finite.</exception>
    private protected AdamBase(ParameterSet<T> parameters, double learningRate, double beta1, double beta2, double epsilon, double weightDecay)
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

    /// <summary>λ, the weight decay (see the derived class for how it enters).</summary>
    public double WeightDecay { get; }

    /// <summary>What <see cref="Step"/> does with a NaN or infinite gradient (default <see cref="NonFiniteGradientPolicy.Apply"/>); see <see cref="NonFiniteGradientPolicy"/>.</summary>
    public NonFiniteGradientPolicy NonFiniteGradients { get; set; }

    /// <summary>Steps refused under <see cref="NonFiniteGradientPolicy.Skip"/> (not counted in <see cref="StepCount"/>).</summary>
    public long SkippedSteps { get; private set; }

    /// <inheritdoc/>
    public long StepCount { get; private set; }

    /// <inheritdoc/>
    public void Step()
    {
        if (NonFiniteGradientGuard.Refuses(NonFiniteGradients, parameters, parameters.Gradients, this is AdamW<T> ? "AdamW" : "Adam"))
        {
            SkippedSteps++;
            return;
        }
        var values = parameters.Values;
        StepCount++;
        ReadOnlySpan<T> gradients = ApplyWeightDecay(values, parameters.Gradients, work);
        AdamUpdate.Apply(values, gradients, firstMoment, secondMoment, work, StepCount, learningRate, Beta1, Beta2, Epsilon);
    }

    /// <inheritdoc/>
    public void ZeroGradients() => parameters.ZeroGradients();

    /// <summary>Applies the weight decay before the moment update and returns the gradient the moments see.</summary>
    /// <param name="values">θ, which a decoupled decay may scale.</param>
    /// <param name="gradients">The parameters' own gradients (never modified).</param>
    /// <param name="work">Scratch of the parameters' length, for a coupled g + λθ.</param>
    /// <returns>The gradient for the moments.</returns>
    private protected abstract ReadOnlySpan<T> ApplyWeightDecay(Span<T> values, ReadOnlySpan<T> gradients, Span<T> work);
}
