using System.Numerics;
using System.Text.Json;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;

namespace NeuralOde.Tests.Support;

/// <summary>z' = θ·z for a scalar z, with θ the one parameter.</summary>
public sealed class ScalarGrowthDynamics : IDifferentiableDynamics<double>
{
    private readonly Parameter<double> theta;

    public ScalarGrowthDynamics(double thetaValue)
    {
        theta = Parameters.Add("theta", new Shape(1, 1));
        theta.Value[0] = thetaValue;
    }

    public ParameterSet<double> Parameters { get; } = new();

    public int Dimension => 1;

    public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> dydt) => dydt[0] = theta.Value[0] * y[0];

    public void Vjp(double t, ReadOnlySpan<double> y, ReadOnlySpan<double> cotangent, Span<double> gradY, Span<double> gradTheta)
    {
        gradY[0] = cotangent[0] * theta.Value[0];
        gradTheta[0] = cotangent[0] * y[0];
    }

    public Var<double> Record(Tape<double> tape, double t, Var<double> y) => Ops.Multiply(y, tape.Parameter(theta));
}

/// <summary>z' = A·z for a 3-vector z, with the 3×3 matrix A (row-major) the parameters.</summary>
public sealed class LinearSystemDynamics : IDifferentiableDynamics<double>
{
    private readonly Parameter<double> matrix;

    public LinearSystemDynamics(double[] a)
    {
        matrix = Parameters.Add("A", new Shape(3, 3));
        a.CopyTo(matrix.Value);
    }

    public ParameterSet<double> Parameters { get; } = new();

    public int Dimension => 3;

    public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> dydt)
    {
        ReadOnlySpan<double> a = matrix.Value;
        for (int i = 0; i < 3; i++) dydt[i] = a[3 * i] * y[0] + a[3 * i + 1] * y[1] + a[3 * i + 2] * y[2];
    }

    public void Vjp(double t, ReadOnlySpan<double> y, ReadOnlySpan<double> cotangent, Span<double> gradY, Span<double> gradTheta)
    {
        ReadOnlySpan<double> a = matrix.Value;
        for (int j = 0; j < 3; j++) gradY[j] = a[j] * cotangent[0] + a[3 + j] * cotangent[1] + a[6 + j] * cotangent[2];
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++) gradTheta[3 * i + j] = cotangent[i] * y[j];
        }
    }

    public Var<double> Record(Tape<double> tape, double t, Var<double> y) => Ops.Linear(y, tape.Parameter(matrix), null);
}

/// <summary>
/// W1 (torchdiffeq ode_demo) as differentiable dynamics: dy/dt = net.2(tanh(net.0(y ⊙ y ⊙ y))) on a batch×2 state,
/// with the fixture's weights; f's value and its VJP come from one forward pass on a private tape.
/// </summary>
public sealed class SpiralAdjointDynamics<T> : IDifferentiableDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tape<T> tape = new(1 << 14);
    private readonly Linear<T> first, second;
    private readonly Shape shape;
    private readonly T[] parameterGradient;

    public SpiralAdjointDynamics(PeerFixture fixture, int batch)
    {
        var random = new Random(0);
        first = new Linear<T>(Parameters, "net.0", 2, 50, random);
        second = new Linear<T>(Parameters, "net.2", 50, 2, random);
        AdjointFixtures.LoadParameters(fixture, Parameters);
        shape = new Shape(batch, 2);
        parameterGradient = new T[Parameters.Length];
    }

    public ParameterSet<T> Parameters { get; } = new();

    public int Dimension => shape.Length;

    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        tape.Reset();
        Record(tape, t, tape.Constant(y, shape)).Value.CopyTo(dydt);
    }

    public void Vjp(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> cotangent, Span<T> gradY, Span<T> gradTheta) =>
        EvaluateAndVjp(t, y, cotangent, default, gradY, gradTheta);

    public void EvaluateAndVjp(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> cotangent, Span<T> dydt, Span<T> gradY, Span<T> gradTheta)
    {
        tape.Reset();
        var x = tape.Variable(y, shape);
        var f = Record(tape, t, x);
        if (dydt.Length != 0) f.Value.CopyTo(dydt);
        Array.Clear(parameterGradient);
        tape.Backward(f, cotangent, GradientSink<T>.Into(Parameters, parameterGradient));
        x.Gradient.CopyTo(gradY);
        parameterGradient.CopyTo(gradTheta);
    }

    public Var<T> Record(Tape<T> tape, double t, Var<T> y)
    {
        var cube = Ops.Multiply(Ops.Multiply(y, y), y);
        return second.Forward(tape, first.Forward(tape, cube, Activation.Tanh));
    }
}

/// <summary>Fixture helpers for the adjoint's peer tests.</summary>
public static class AdjointFixtures
{
    /// <summary>Overwrites every tensor of <paramref name="parameters"/> with the fixture array of the same name.</summary>
    public static void LoadParameters<T>(PeerFixture fixture, ParameterSet<T> parameters)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (Parameter<T> p in parameters.Parameters)
        {
            T[] values = fixture.Array<T>(p.Name);
            if (values.Length != p.Length) throw new InvalidOperationException($"Fixture array {p.Name} has {values.Length} values, the parameter {p.Length}.");
            values.CopyTo(p.Value);
        }
    }

    /// <summary>A flat data array of an expected entry, e.g. grads.net.0.weight.</summary>
    public static double[] Data(JsonElement element) => [.. element.GetProperty("data").EnumerateArray().Select(x => x.GetDouble())];
}

/// <summary>One forward and backward pass of an <see cref="AdjointGradient{T}"/>, with all its outputs.</summary>
public sealed record AdjointRun<T>(T[] Output, T[] GradY0, T[] GradTheta, double[] GradTimes, SolveStats Forward, GradientStats Backward)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Runs the forward, asks <paramref name="cotangent"/> for ∂L/∂output, runs the backward.</summary>
    public static AdjointRun<T> Run(Adjoint adjoint, IDifferentiableDynamics<T> f, T[] y0, SaveAt saveAt, SolveOptions options, Func<T[], T[]> cotangent)
    {
        var gradient = new AdjointGradient<T>(adjoint);
        var output = new T[saveAt.Count * f.Dimension];
        SolveStats forward = gradient.Forward(f, y0, saveAt, options, output);
        var gradY0 = new T[f.Dimension];
        var gradTheta = new T[f.Parameters.Length];
        var gradTimes = new double[saveAt.AllTimes.Count];
        GradientStats backward = gradient.Backward(cotangent(output), gradY0, gradTheta, gradTimes);
        return new AdjointRun<T>(output, gradY0, gradTheta, gradTimes, forward, backward);
    }
}
