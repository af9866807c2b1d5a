using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>What every implicit stepper's <see cref="IDifferentiableStepper{T}.StepVjp"/> starts with and accumulates by.</summary>
internal static class StepVjpSupport
{
    /// <summary>
    /// Recomputes the accepted step from <paramref name="y0"/> (stages, Jacobian, factorisation: a step is a function of
    /// its start state) and returns its evaluations; a step the forward accepted and the recompute refuses is a bug, named.
    /// </summary>
    public static int Recompute<T>(IStepper<T> stepper, IDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, Span<T> y1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var outcome = stepper.Step(f, input, y0, default, y1, default);
        if (outcome.Rejection != StepRejection.None)
            throw new InvalidOperationException($"The step from t = {input.Time} with h = {input.StepSize} was accepted by the forward but is refused when recomputed ({outcome.Rejection}).");
        return outcome.Evaluations;
    }

    /// <summary>destination += source.</summary>
    public static void Accumulate<T>(ReadOnlySpan<T> source, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Add(destination, source, destination);
}
