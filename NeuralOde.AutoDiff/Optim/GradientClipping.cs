using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.AutoDiff.Optim;

/// <summary>Gradient clipping as torch.nn.utils.clip_grad_norm_ does it.</summary>
public static class GradientClipping
{
    /// <summary>The term added to the norm in the scale maxNorm / (norm + 1e-6), as PyTorch adds it.</summary>
    public const double NormEpsilon = 1e-6;

    /// <summary>
    /// Scales all gradients of a set by maxNorm / (norm + 1e-6) when that factor is below 1, where norm is the
    /// Euclidean norm of all gradients together.
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="parameters">The set whose gradients are clipped.</param>
    /// <param name="maxNorm">The largest norm let through, at least 0.</param>
    /// <returns>The norm before clipping.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is negative or NaN.</exception>
    /// <exception cref="ArithmeticException">The norm is not finite (a gradient is NaN or infinite).</exception>
    public static double ClipNorm<T>(ParameterSet<T> parameters, double maxNorm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return ClipNorm(parameters.Gradients, maxNorm);
    }

    /// <summary>
    /// Scales a gradient vector by maxNorm / (norm + 1e-6) when that factor is below 1 (for a caller's span, such
    /// as an adjoint's a_θ).
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="gradients">The gradients, scaled in place.</param>
    /// <param name="maxNorm">The largest norm let through, at least 0.</param>
    /// <returns>The norm before clipping.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is negative or NaN.</exception>
    /// <exception cref="ArithmeticException">The norm is not finite (a gradient is NaN or infinite).</exception>
    public static double ClipNorm<T>(Span<T> gradients, double maxNorm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(maxNorm >= 0))
            ThrowHelper.OutOfRange(nameof(maxNorm), maxNorm, $"{nameof(maxNorm)} must be at least 0, but is {maxNorm}.");
        double norm = double.CreateChecked(TensorPrimitives.Norm<T>(gradients));
        if (!double.IsFinite(norm))
            throw new ArithmeticException($"The gradient norm is {norm}: a gradient is not finite, so clipping cannot rescale it.");
        double scale = maxNorm / (norm + NormEpsilon);
        if (scale < 1) TensorPrimitives.Multiply(gradients, T.CreateChecked(scale), gradients);
        return norm;
    }
}
