using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Examples.Training;

/// <summary>
/// Differentiable dynamics written once, as a tape expression: <see cref="Record"/> defines f, and Evaluate and the
/// vector–Jacobian product come from recording it on a private tape. Good for small hand-written models (a parametric
/// ODE, a network on transformed inputs); an MLP alone is better served by MlpDynamics.
/// </summary>
internal abstract class TapeDynamics<T> : IDifferentiableDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tape<T> tape = new(1 << 14);
    private readonly T[] parameterGradient;

    protected TapeDynamics(ParameterSet<T> parameters, Shape stateShape)
    {
        Parameters = parameters;
        StateShape = stateShape;
        parameterGradient = new T[parameters.Length];
    }

    public ParameterSet<T> Parameters { get; }

    public Shape StateShape { get; }

    public int Dimension => StateShape.Length;

    public abstract Var<T> Record(Tape<T> tape, double t, Var<T> y);

    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        tape.Reset();
        Record(tape, t, tape.Constant(y, StateShape)).Value.CopyTo(dydt);
    }

    public void Vjp(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> cotangent, Span<T> gradY, Span<T> gradTheta)
    {
        tape.Reset();
        var x = tape.Variable(y, StateShape);
        var f = Record(tape, t, x);
        Array.Clear(parameterGradient);
        tape.Backward(f, cotangent, GradientSink<T>.Into(Parameters, parameterGradient));
        x.Gradient.CopyTo(gradY);
        parameterGradient.CopyTo(gradTheta);
    }
}
