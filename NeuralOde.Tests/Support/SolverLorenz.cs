using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Tests.Support;

/// <summary>Lorenz (σ = 10, ρ = 28, β = 8/3) for a batch of B independent rows: the W5 workload.</summary>
public sealed class LorenzDynamics<T>(int batch = 1) : IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T Sigma = T.CreateTruncating(10.0), Rho = T.CreateTruncating(28.0), Beta = T.CreateTruncating(8.0 / 3.0);

    public int Dimension { get; } = 3 * batch;

    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        for (int i = 0; i + 2 < y.Length; i += 3)
        {
            T x = y[i], yy = y[i + 1], z = y[i + 2];
            dydt[i] = Sigma * (yy - x);
            dydt[i + 1] = x * (Rho - z) - yy;
            dydt[i + 2] = x * yy - Beta * z;
        }
    }

    /// <summary>W5's batch: y0[i] = [1 + i/1024, 1, 1].</summary>
    public static T[] InitialStates(int count)
    {
        var y0 = new T[3 * count];
        for (int i = 0; i < count; i++)
        {
            y0[3 * i] = T.CreateTruncating(1 + i / 1024.0);
            y0[3 * i + 1] = T.One;
            y0[3 * i + 2] = T.One;
        }
        return y0;
    }
}
