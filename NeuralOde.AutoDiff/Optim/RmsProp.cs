using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.AutoDiff.Optim;

/// <summary>
/// RMSprop with torch.optim.RMSprop's semantics: g ← g + λθ; s ← α·s + (1 − α)·g²; centered, also
/// ḡ ← α·ḡ + (1 − α)·g and s is replaced by s − ḡ² under the root; d = √s + ε (ε after the square root);
/// with momentum μ, b ← μ·b + g/d (b starts at zero) and θ ← θ − lr·b, otherwise θ ← θ − lr·g/d.
/// </summary>
/// <typeparam name="T">The parameters' element type.</typeparam>
public sealed class RmsProp<T> : IOptimizer
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterSet<T> parameters;
    private readonly T[] squareAverage;
    private readonly T[] gradientAverage;
    private readonly T[] momentumBuffer;
    private readonly T[] decayed;
    private readonly T[] work;
    private double learningRate;

    /// <summary>Creates the optimizer and its state (freezes the set).</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">lr, at least 0.</param>
    /// <param name="alpha">α, the decay of the averages, in [0, 1].</param>
    /// <param name="epsilon">ε, added after the square root, at least 0.</param>
    /// <param name="momentum">μ, at least 0; 0 turns momentum off.</param>
    /// <param name="centered">Whether to subtract the squared mean gradient (an estimate of the variance).</param>
    /// <param name="weightDecay">λ of the L2 term g + λθ, at least 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyperparameter is outside its range or not finite.</exception>
    public RmsProp(ParameterSet<T> parameters, double learningRate = 1e-2, double alpha = 0.99, double epsilon = 1e-8, double momentum = 0, bool centered = false, double weightDecay = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        this.parameters = parameters;
        LearningRate = learningRate;
        Alpha = OptimizerArguments.ClosedUnitInterval(alpha, nameof(alpha));
        Epsilon = OptimizerArguments.NonNegative(epsilon, nameof(epsilon));
        Momentum = OptimizerArguments.NonNegative(momentum, nameof(momentum));
        WeightDecay = OptimizerArguments.NonNegative(weightDecay, nameof(weightDecay));
        Centered = centered;
        int n = parameters.Values.Length;
        squareAverage = new T[n];
        gradientAverage = centered ? new T[n] : [];
        momentumBuffer = momentum != 0 ? new T[n] : [];
        decayed = weightDecay != 0 ? new T[n] : [];
        work = new T[n];
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double LearningRate
    {
        get => learningRate;
        set => learningRate = OptimizerArguments.NonNegative(value, nameof(LearningRate));
    }

    /// <summary>α, the decay of the running averages.</summary>
    public double Alpha { get; }

    /// <summary>ε, added after the square root.</summary>
    public double Epsilon { get; }

    /// <summary>μ, the momentum factor (0: none).</summary>
    public double Momentum { get; }

    /// <summary>Whether the squared mean gradient is subtracted.</summary>
    public bool Centered { get; }

    /// <summary>λ of the L2 term g + λθ.</summary>
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
        if (NonFiniteGradientGuard.Refuses(NonFiniteGradients, parameters, parameters.Gradients, "RmsProp"))
        {
            SkippedSteps++;
            return;
        }
        var values = parameters.Values;
        ReadOnlySpan<T> gradients = parameters.Gradients;
        StepCount++;
        if (WeightDecay != 0)
        {
            TensorPrimitives.MultiplyAdd(values, T.CreateChecked(WeightDecay), gradients, decayed);
            gradients = decayed;
        }
        var scratch = work.AsSpan();
        T oneMinusAlpha = T.CreateChecked(1 - Alpha);

        // s = α·s + (1 − α)·g²
        TensorPrimitives.Multiply(gradients, gradients, scratch);
        TensorPrimitives.Multiply(scratch, oneMinusAlpha, scratch);
        TensorPrimitives.MultiplyAdd(squareAverage, T.CreateChecked(Alpha), scratch, squareAverage);

        // d = √(s − ḡ²) + ε when centered, √s + ε otherwise
        if (Centered)
        {
            TensorPrimitives.Lerp(gradientAverage, gradients, oneMinusAlpha, gradientAverage);
            TensorPrimitives.Multiply(gradientAverage, gradientAverage, scratch);
            TensorPrimitives.Subtract(squareAverage, scratch, scratch);
            TensorPrimitives.Sqrt(scratch, scratch);
        }
        else
        {
            TensorPrimitives.Sqrt(squareAverage, scratch);
        }
        TensorPrimitives.Add(scratch, T.CreateChecked(Epsilon), scratch);
        TensorPrimitives.Divide(gradients, scratch, scratch);

        if (Momentum != 0)
        {
            var buffer = momentumBuffer.AsSpan();
            TensorPrimitives.MultiplyAdd(buffer, T.CreateChecked(Momentum), scratch, buffer);
            TensorPrimitives.MultiplyAdd(buffer, T.CreateChecked(-learningRate), values, values);
        }
        else
        {
            TensorPrimitives.MultiplyAdd(scratch, T.CreateChecked(-learningRate), values, values);
        }
    }

    /// <inheritdoc/>
    public void ZeroGradients() => parameters.ZeroGradients();
}
