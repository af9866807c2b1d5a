using System.Numerics;

namespace NeuralOde.Core.Data;

/// <summary>Standard normal draws from a caller's seeded <see cref="Random"/> (Box–Muller; both values of a pair used).</summary>
internal static class SeededNormal
{
    public static double Next(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    public static void Fill<T>(Random random, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < destination.Length; i += 2)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            destination[i] = T.CreateTruncating(r * Math.Cos(2.0 * Math.PI * u2));
            if (i + 1 < destination.Length) destination[i + 1] = T.CreateTruncating(r * Math.Sin(2.0 * Math.PI * u2));
        }
    }
}
