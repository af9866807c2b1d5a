using System.Numerics;
using System.Text.Json;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;

namespace NeuralOde.Tests.Support;

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

/// <summary>Fixture helpers for the adjoint's peer tests.</summary>
public static class AdjointFixtures
{
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
