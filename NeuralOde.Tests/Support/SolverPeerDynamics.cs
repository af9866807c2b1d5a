using System.Numerics;
using System.Numerics.Tensors;
using System.Text.Json;
using NeuralOde.Core.Dynamics;
using NUnit.Framework;

namespace NeuralOde.Tests.Support;

/// <summary>A peer fixture (Data/peer-fixtures/wN.json): its arrays by name and its expected results by mode.</summary>
public sealed class PeerFixture
{
    private readonly JsonElement root;

    private PeerFixture(JsonElement root) => this.root = root;

    public static PeerFixture Load(string name)
    {
        string path = Path.Combine(TestContext.CurrentContext.TestDirectory, "Data", "peer-fixtures", name + ".json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return new PeerFixture(doc.RootElement.Clone());
    }

    public T[] Array<T>(string name)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        [.. root.GetProperty("arrays").GetProperty(name).GetProperty("data").EnumerateArray().Select(x => T.CreateTruncating(x.GetDouble()))];

    public JsonElement Expected(string mode) => root.GetProperty("expected").GetProperty(mode);
}

/// <summary>A fixed-width dense layer y = x·Wᵀ + b over spans (PyTorch layout W[out, in]).</summary>
internal sealed class DenseLayer<T>(T[] weight, T[] bias)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public int Outputs => bias.Length;

    public int Inputs => weight.Length / bias.Length;

    /// <summary>destination = W·x (+ b when <paramref name="addBias"/>).</summary>
    public void Apply(ReadOnlySpan<T> x, Span<T> destination, bool addBias)
    {
        int inputs = Inputs;
        for (int o = 0; o < bias.Length; o++)
        {
            T sum = TensorPrimitives.Dot(weight.AsSpan(o * inputs, inputs), x);
            destination[o] = addBias ? sum + bias[o] : sum;
        }
    }

    public T Weight(int output, int input) => weight[output * Inputs + input];
}

/// <summary>W1 (torchdiffeq ode_demo): dy/dt = Linear(50,2)(tanh(Linear(2,50)(y³))) for a 20×2 batch.</summary>
public sealed class SpiralDynamics<T> : IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly DenseLayer<T> first, second;
    private readonly T[] cube = new T[2], hidden = new T[50];

    public SpiralDynamics(PeerFixture fixture, int batch)
    {
        first = new DenseLayer<T>(fixture.Array<T>("net.0.weight"), fixture.Array<T>("net.0.bias"));
        second = new DenseLayer<T>(fixture.Array<T>("net.2.weight"), fixture.Array<T>("net.2.bias"));
        Dimension = 2 * batch;
    }

    public int Dimension { get; }

    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        for (int row = 0; row < Dimension / 2; row++)
        {
            for (int i = 0; i < 2; i++) cube[i] = y[2 * row + i] * y[2 * row + i] * y[2 * row + i];
            first.Apply(cube, hidden, addBias: true);
            TensorPrimitives.Tanh<T>(hidden, hidden);
            second.Apply(hidden, dydt.Slice(2 * row, 2), addBias: true);
        }
    }
}

/// <summary>
/// W2/W3: the MLP [z, t] → 3→64→64→64→2 (tanh) on a batch of 2-D points, with d(trace term)/dt from forward-mode
/// tangents: exact (−tr ∂f/∂z from two tangents, W2) or Hutchinson (−eᵀ(∂f/∂z)e from one tangent along e, W3).
/// State layout: z (batch×2) then the trace integral (batch×1).
/// </summary>
public sealed class CnfDynamics<T> : IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly DenseLayer<T>[] layers;
    private readonly T[]? noise;
    private readonly int batch;
    private readonly T[] input = new T[3];
    private readonly T[][] primal = [new T[64], new T[64], new T[64]];
    private readonly T[][] tangentIn = [new T[64], new T[64]];
    private readonly T[] tangentOut = new T[64];
    private readonly T[] output = new T[2];
    private readonly T[] outTangent = new T[2];

    // noise: null for the exact trace; the batch×2 Rademacher noise for Hutchinson's estimate.
    public CnfDynamics(PeerFixture fixture, int batch, T[]? noise)
    {
        layers = [.. new[] { 0, 2, 4, 6 }.Select(k => new DenseLayer<T>(fixture.Array<T>($"net.{k}.weight"), fixture.Array<T>($"net.{k}.bias")))];
        this.batch = batch;
        this.noise = noise;
        Dimension = 3 * batch;
    }

    public int Dimension { get; }

    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        T time = T.CreateTruncating(t);
        for (int row = 0; row < batch; row++)
        {
            input[0] = y[2 * row];
            input[1] = y[2 * row + 1];
            input[2] = time;
            for (int l = 0; l < 3; l++)
            {
                layers[l].Apply(l == 0 ? input : primal[l - 1], primal[l], addBias: true);
                TensorPrimitives.Tanh<T>(primal[l], primal[l]);
            }
            layers[3].Apply(primal[2], output, addBias: true);
            dydt[2 * row] = output[0];
            dydt[2 * row + 1] = output[1];

            T divergence = T.Zero;
            if (noise is null)
            {
                for (int j = 0; j < 2; j++) divergence += Tangent(j == 0 ? T.One : T.Zero, j == 1 ? T.One : T.Zero)[j];
            }
            else
            {
                T e0 = noise[2 * row], e1 = noise[2 * row + 1];
                ReadOnlySpan<T> je = Tangent(e0, e1);
                divergence = e0 * je[0] + e1 * je[1];
            }
            dydt[2 * batch + row] = -divergence;
        }
    }

    /// <summary>(∂f/∂z)·v for v = (v0, v1), pushed through the layers with the primal activations of the current row.</summary>
    private ReadOnlySpan<T> Tangent(T v0, T v1)
    {
        DenseLayer<T> l0 = layers[0];
        T[] current = tangentIn[0];
        for (int o = 0; o < 64; o++)
        {
            T h = primal[0][o];
            current[o] = (T.One - h * h) * (l0.Weight(o, 0) * v0 + l0.Weight(o, 1) * v1);
        }
        for (int l = 1; l < 3; l++)
        {
            layers[l].Apply(current, tangentOut, addBias: false);
            T[] next = tangentIn[l % 2 == 1 ? 1 : 0];
            for (int o = 0; o < 64; o++)
            {
                T h = primal[l][o];
                next[o] = (T.One - h * h) * tangentOut[o];
            }
            current = next;
        }
        layers[3].Apply(current, outTangent, addBias: false);
        return outTangent;
    }
}
