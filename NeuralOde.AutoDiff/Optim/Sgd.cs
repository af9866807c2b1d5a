using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.AutoDiff.Optim;

/// <summary>
/// Stochastic gradient descent with torch.optim.SGD's semantics: g ← g + λθ; with momentum μ the buffer b starts
/// as g on the first step and is b ← μ·b + (1 − dampening)·g afterwards; the step direction is b, or g + μ·b with
/// Nesterov; θ ← θ − lr·direction.
/// </summary>
/// <typeparam name="T">The parameters' element type.</typeparam>
public sealed class Sgd<T> : IOptimizer
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterSet<T> parameters;
    private readonly T[] momentumBuffer;
    private readonly T[] work;
    private double learningRate;

    /// <summary>Creates the optimizer and its state (freezes the set).</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">lr, at least 0.</param>
    /// <param name="momentum">μ, at least 0; 0 turns momentum off.</param>
    /// <param name="dampening">The dampening of new gradients in the momentum buffer, in [0, 1].</param>
    /// <param name="nesterov">Whether to use Nesterov momentum (needs μ &gt; 0 and zero dampening).</param>
    /// <param name="weightDecay">λ of the L2 term g + λθ, at least 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyperparameter is outside its range or not finite.</exception>
    /// <exception cref="ArgumentException">Nesterov momentum without momentum, or with dampening.</exception>
    public Sgd(ParameterSet<T> parameters, double learningRate, double momentum = 0, double dampening = 0, bool nesterov = false, double weightDecay = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        this.parameters = parameters;
        LearningRate = learningRate;
        Momentum = OptimizerArguments.NonNegative(momentum, nameof(momentum));
        Dampening = OptimizerArguments.ClosedUnitInterval(dampening, nameof(dampening));
        WeightDecay = OptimizerArguments.NonNegative(weightDecay, nameof(weightDecay));
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException($"Nesterov momentum needs momentum > 0 and dampening 0, but momentum is {momentum} and dampening {dampening}.", nameof(nesterov));
        Nesterov = nesterov;
        int n = parameters.Values.Length;
        momentumBuffer = momentum != 0 ? new T[n] : [];
        work = new T[n];
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double LearningRate
    {
        get => learningRate;
        set => learningRate = OptimizerArguments.NonNegative(value, nameof(LearningRate));
    }

    /// <summary>μ, the momentum factor (0: none).</summary>
    public double Momentum { get; }

    /// <summary>The dampening of new gradients in the momentum buffer.</summary>
    public double Dampening { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

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
        if (NonFiniteGradientGuard.Refuses(NonFiniteGradients, parameters, parameters.Gradients, "Sgd"))
        {
            SkippedSteps++;
            return;
        }
        var values = parameters.Values;
        ReadOnlySpan<T> direction = parameters.Gradients;
        StepCount++;
        if (WeightDecay != 0)
        {
            TensorPrimitives.MultiplyAdd(values, T.CreateChecked(WeightDecay), direction, work);
            direction = work;
        }
        if (Momentum != 0)
        {
            var buffer = momentumBuffer.AsSpan();
            if (StepCount == 1)
            {
                direction.CopyTo(buffer);
            }
            else
            {
                TensorPrimitives.Multiply(buffer, T.CreateChecked(Momentum), buffer);
                TensorPrimitives.MultiplyAdd(direction, T.CreateChecked(1 - Dampening), buffer, buffer);
            }
            if (Nesterov)
            {
                TensorPrimitives.MultiplyAdd(buffer, T.CreateChecked(Momentum), direction, work);
                direction = work;
            }
            else
            {
                direction = buffer;
            }
        }
        TensorPrimitives.MultiplyAdd(direction, T.CreateChecked(-learningRate), values, values);
    }

    /// <inheritdoc/>
    public void ZeroGradients() => parameters.ZeroGradients();
}
