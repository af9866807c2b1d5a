using System.Numerics;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.Examples.Training;

/// <summary>
/// A stand-in Adam (PyTorch semantics: bias correction, ε added after the square root) until the library's
/// NeuralOde.AutoDiff.Optim.Adam lands. Examples obtain it only through <see cref="Optimizers.Adam"/>, so the swap is one line there.
/// </summary>
internal sealed class TemporaryAdam<T>(ParameterSet<T> parameters, double learningRate)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
    private readonly double[] m = new double[parameters.Length];
    private readonly double[] v = new double[parameters.Length];
    private long steps;

    public double LearningRate { get; set; } = learningRate;

    public void Step()
    {
        steps++;
        double correction1 = 1 - Math.Pow(Beta1, steps), correction2 = 1 - Math.Pow(Beta2, steps);
        var values = parameters.Values;
        var gradients = parameters.Gradients;
        for (int i = 0; i < values.Length; i++)
        {
            double g = double.CreateTruncating(gradients[i]);
            m[i] = Beta1 * m[i] + (1 - Beta1) * g;
            v[i] = Beta2 * v[i] + (1 - Beta2) * g * g;
            double step = LearningRate * (m[i] / correction1) / (Math.Sqrt(v[i] / correction2) + Epsilon);
            values[i] -= T.CreateTruncating(step);
        }
    }

    public void ZeroGradients() => parameters.ZeroGradients();
}

/// <summary>The one place the examples get an optimizer from.</summary>
internal static class Optimizers
{
    // When NeuralOde.AutoDiff.Optim.Adam<T> is merged: `=> new Adam<T>(parameters, learningRate);` (same Step/ZeroGradients/LearningRate).
    public static TemporaryAdam<T> Adam<T>(ParameterSet<T> parameters, double learningRate)
        where T : unmanaged, IFloatingPointIeee754<T> => new(parameters, learningRate);
}
