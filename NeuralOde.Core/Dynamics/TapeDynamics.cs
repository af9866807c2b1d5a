using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.Core.Dynamics;

/// <summary>
/// Differentiable dynamics defined once, by how they record themselves on a tape: <see cref="Evaluate"/> and
/// <see cref="Vjp"/> replay <see cref="Record"/> on a private tape that is reset on every call, so after the first
/// call neither allocates.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>Not thread-safe (one private tape per instance).</remarks>
public abstract class TapeDynamics<T> : IDifferentiableDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tape<T> tape = new(1 << 16);
    private T[] parameterGradient = [];

    /// <summary>Sets up the private tape for states of <paramref name="stateShape"/>.</summary>
    /// <param name="parameters">The parameters θ.</param>
    /// <param name="stateShape">The state's layout, e.g. B × D.</param>
    protected TapeDynamics(ParameterSet<T> parameters, Shape stateShape)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters;
        StateShape = stateShape;
    }

    /// <summary>The state's layout.</summary>
    public Shape StateShape { get; }

    /// <inheritdoc/>
    public int Dimension => StateShape.Length;

    /// <inheritdoc/>
    public ParameterSet<T> Parameters { get; }

    /// <inheritdoc/>
    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        tape.Reset();
        Record(tape, t, tape.Constant(y, StateShape)).Value.CopyTo(dydt);
    }

    /// <inheritdoc/>
    public void Vjp(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> cotangent, Span<T> gradY, Span<T> gradTheta) =>
        EvaluateAndVjp(t, y, cotangent, default, gradY, gradTheta);

    /// <inheritdoc/>
    /// <remarks>One forward pass: f's value is read off the tape the VJP is taken on (<paramref name="dydt"/> may be empty to skip it).</remarks>
    public void EvaluateAndVjp(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> cotangent, Span<T> dydt, Span<T> gradY, Span<T> gradTheta)
    {
        tape.Reset();
        var x = tape.Variable(y, StateShape);
        var f = Record(tape, t, x);
        if (dydt.Length != 0) f.Value.CopyTo(dydt);
        // Sized on first use: subclasses add their layers to the set after this base constructor has run.
        if (parameterGradient.Length != Parameters.Length) parameterGradient = new T[Parameters.Length];
        Array.Clear(parameterGradient);
        tape.Backward(f, cotangent, GradientSink<T>.Into(Parameters, parameterGradient));
        x.Gradient.CopyTo(gradY);
        parameterGradient.CopyTo(gradTheta);
    }

    /// <inheritdoc/>
    public abstract Var<T> Record(Tape<T> tape, double t, Var<T> y);
}
