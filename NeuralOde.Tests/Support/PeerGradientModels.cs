using System.Numerics;
using System.Text.Json;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Tests.Support;

/// <summary>W1's model, torchdiffeq's ode_demo ODEFunc: y ↦ Linear(50,2)(tanh(Linear(2,50)(y³))).</summary>
public sealed class SpiralNetwork<T> : TapeDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Linear<T> hidden;
    private readonly Linear<T> output;

    public SpiralNetwork(ParameterSet<T> parameters, int batch)
        : base(parameters, new Shape(batch, 2))
    {
        var random = new Random(0);
        hidden = new Linear<T>(parameters, "net.0", 2, 50, random);
        output = new Linear<T>(parameters, "net.2", 50, 2, random);
    }

    public static SpiralNetwork<T> FromFixture(PeerFixture fixture, int batch)
    {
        var network = new SpiralNetwork<T>(new ParameterSet<T>(), batch);
        PeerModels.LoadWeights(network.Parameters, fixture);
        return network;
    }

    public override Var<T> Record(Tape<T> tape, double t, Var<T> y) =>
        output.Forward(tape, hidden.Forward(tape, Ops.Multiply(Ops.Square(y), y), Activation.Tanh));
}

public static class PeerModels
{
    /// <summary>Copies every tensor of the set from the fixture's arrays of the same name.</summary>
    public static void LoadWeights<T>(ParameterSet<T> parameters, PeerFixture fixture)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var p in parameters.Parameters)
        {
            var values = fixture.Array<T>(p.Name);
            Assert.That(values, Has.Length.EqualTo(p.Length), p.Name);
            values.CopyTo(p.Value);
        }
    }

    /// <summary>Asserts every parameter's gradient equals the fixture's: |g − g_ref| ≤ rel·|g_ref| + floor·max|g_ref| per tensor.</summary>
    public static void AssertGradients<T>(ParameterSet<T> parameters, JsonElement expected, double relative, double floor)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var grads = expected.GetProperty("grads");
        double sumSquares = 0;
        foreach (var p in parameters.Parameters)
        {
            double[] reference = [.. grads.GetProperty(p.Name).GetProperty("data").EnumerateArray().Select(e => e.GetDouble())];
            double max = reference.Max(Math.Abs);
            var actual = p.Gradient;
            for (int i = 0; i < reference.Length; i++)
            {
                double g = double.CreateTruncating(actual[i]);
                sumSquares += g * g;
                Assert.That(g, Is.EqualTo(reference[i]).Within(relative * Math.Abs(reference[i]) + floor * max), $"{p.Name}[{i}]");
            }
        }
        double norm = expected.GetProperty("grad_norm").GetDouble();
        Assert.That(Math.Sqrt(sumSquares), Is.EqualTo(norm).Within(relative * 10 * norm), "grad_norm");
    }
}
