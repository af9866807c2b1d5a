using System.Numerics;
using System.Text.Json;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core.Flows;

namespace NeuralOde.Tests.Support;

/// <summary>A linear velocity field f(z) = A z, stored as the parameter M = Aᵀ so that f = z·M for a batch of rows.</summary>
public sealed class LinearVelocityField<T> : IVelocityField<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T> transposed;

    public LinearVelocityField(double[,] a)
    {
        Dimension = a.GetLength(0);
        Parameters = new ParameterSet<T>();
        transposed = Parameters.Add("a_transposed", new Shape(Dimension, Dimension));
        var values = transposed.Value;
        for (int i = 0; i < Dimension; i++)
        {
            for (int j = 0; j < Dimension; j++) values[j * Dimension + i] = T.CreateTruncating(a[i, j]);
        }
    }

    public int Dimension { get; }

    public ParameterSet<T> Parameters { get; }

    public Var<T> Forward(Tape<T> tape, Var<T> z, T t) => Ops.MatMul(z, tape.Parameter(transposed));

    public Dual<T> Forward(Tape<T> tape, Var<T> z, Var<T> zDot, T t)
    {
        var m = tape.Parameter(transposed);
        return new Dual<T>(Ops.MatMul(z, m), Ops.MatMul(zDot, m));
    }
}

/// <summary>The peer's W2/W3 network with the fixture's weights, and the element-wise gradient comparison of peer-workloads.md.</summary>
public static class CnfPeer
{
    public static MlpVelocityField<float> Network(PeerFixture fixture)
    {
        var mlp = Mlp.Create<float>(2, [64, 64, 64], 2, Activation.Tanh, TimeInput.Concat, seed: 0);
        foreach (var p in mlp.Parameters.Parameters) fixture.Array<float>(p.Name).CopyTo(p.Value);
        return new MlpVelocityField<float>(mlp);
    }

    public static double[] Data(JsonElement expected, string name) =>
        [.. expected.GetProperty(name).GetProperty("data").EnumerateArray().Select(x => x.GetDouble())];

    /// <summary>The worst ratio |g − g_ref| / (1e-4·|g_ref| + 1e-5·max|g_ref|) over all tensors (≤ 1 passes).</summary>
    public static double WorstGradientRatio(ParameterSet<float> parameters, JsonElement expected, out double gradNorm)
    {
        double worst = 0, sq = 0;
        var grads = expected.GetProperty("grads");
        foreach (var p in parameters.Parameters)
        {
            double[] reference = Data(grads, p.Name);
            ReadOnlySpan<float> g = p.Gradient;
            double max = reference.Max(Math.Abs);
            for (int i = 0; i < reference.Length; i++)
            {
                sq += (double)g[i] * g[i];
                worst = Math.Max(worst, Math.Abs(g[i] - reference[i]) / (1e-4 * Math.Abs(reference[i]) + 1e-5 * max));
            }
        }
        gradNorm = Math.Sqrt(sq);
        return worst;
    }
}
