using System.Numerics;

namespace NeuralOde.Core.Data;

/// <summary>FFJORD's two-dimensional toy densities.</summary>
public enum Toy2DSet
{
    /// <summary>A swiss roll: (t cos t, t sin t)/5 with t = 1.5π(1 + 2u) and N(0, 1) noise on each coordinate before the division.</summary>
    SwissRoll,

    /// <summary>Two concentric circles of radii 3 and 1.5 (half the points each) with N(0, 0.08²) noise before the ×3 scaling.</summary>
    Circles,

    /// <summary>Four concentric rings of radii 3, 2.25, 1.5 and 0.75 (a quarter of the points each), plus N(0, 0.08²) noise.</summary>
    Rings,

    /// <summary>Two interleaved half-moons (scikit-learn's layout, noise 0.1), scaled by 2 and shifted by (−1, −0.2).</summary>
    Moons,

    /// <summary>Eight Gaussians of standard deviation 0.5 centred on the circle of radius 4, everything divided by 1.414.</summary>
    EightGaussians,

    /// <summary>A five-armed pinwheel (radial std 0.3, tangential std 0.1, rate 0.25), scaled by 2.</summary>
    Pinwheel,

    /// <summary>Two interleaved spirals of 540° with uniform jitter, divided by 3, plus N(0, 0.1²) noise.</summary>
    TwoSpirals,

    /// <summary>A 4 × 4 checkerboard of uniform squares on [−4, 4]² (half of them filled).</summary>
    Checkerboard,
}

/// <summary>Seeded generators of FFJORD's 2-D toy data (Grathwohl et al. 2019, <c>lib/toy_data.py</c>), with the same shapes and scales.</summary>
/// <remarks>
/// The distributions, constants and scalings follow FFJORD's generators (and scikit-learn's <c>make_swiss_roll</c>,
/// <c>make_circles</c>, <c>make_moons</c> which FFJORD calls); the random streams are .NET's, so individual samples
/// differ from NumPy's while the distributions are the same. Every call takes its own seed or <see cref="Random"/>:
/// there is no global stream.
/// </remarks>
public static class Toy2D
{
    /// <summary>All the sets, in FFJORD's order.</summary>
    public static IReadOnlyList<Toy2DSet> All { get; } = Enum.GetValues<Toy2DSet>();

    /// <summary>Draws <paramref name="n"/> points from <paramref name="set"/> with a fresh stream seeded by <paramref name="seed"/>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="set">The density.</param>
    /// <param name="n">How many points.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>n × 2 points, row-major.</returns>
    /// <exception cref="ArgumentOutOfRangeException">n is not positive, or the set is unknown.</exception>
    public static T[] Sample<T>(Toy2DSet set, int n, int seed)
        where T : unmanaged, IFloatingPointIeee754<T> => Sample<T>(set, n, new Random(seed));

    /// <summary>Draws <paramref name="n"/> points from <paramref name="set"/>, advancing <paramref name="random"/>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="set">The density.</param>
    /// <param name="n">How many points.</param>
    /// <param name="random">The stream (seeded by the caller).</param>
    /// <returns>n × 2 points, row-major.</returns>
    /// <exception cref="ArgumentOutOfRangeException">n is not positive, or the set is unknown.</exception>
    public static T[] Sample<T>(Toy2DSet set, int n, Random random)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        var p = new double[2 * n];
        switch (set)
        {
            case Toy2DSet.SwissRoll: SwissRoll(p, n, random); break;
            case Toy2DSet.Circles: Circles(p, n, random); break;
            case Toy2DSet.Rings: Rings(p, n, random); break;
            case Toy2DSet.Moons: Moons(p, n, random); break;
            case Toy2DSet.EightGaussians: EightGaussians(p, n, random); break;
            case Toy2DSet.Pinwheel: Pinwheel(p, n, random); break;
            case Toy2DSet.TwoSpirals: TwoSpirals(p, n, random); break;
            case Toy2DSet.Checkerboard: Checkerboard(p, n, random); break;
            default: throw new ArgumentOutOfRangeException(nameof(set), set, "Unknown toy set.");
        }
        var result = new T[2 * n];
        for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating(p[i]);
        return result;
    }

    private static double Normal(Random random) => SeededNormal.Next(random);

    private static void SwissRoll(double[] p, int n, Random random)
    {
        // scikit-learn's make_swiss_roll(noise = 1) keeps (t cos t, t sin t) in columns 0 and 2; FFJORD divides by 5.
        for (int i = 0; i < n; i++)
        {
            double t = 1.5 * Math.PI * (1 + 2 * random.NextDouble());
            p[2 * i] = (t * Math.Cos(t) + Normal(random)) / 5;
            p[2 * i + 1] = (t * Math.Sin(t) + Normal(random)) / 5;
        }
    }

    private static void Circles(double[] p, int n, Random random)
    {
        // make_circles(factor = 0.5, noise = 0.08): n/2 points evenly on the unit circle, the rest on radius 0.5; then ×3.
        int outer = n / 2, inner = n - outer;
        for (int i = 0; i < n; i++)
        {
            bool isOuter = i < outer;
            int k = isOuter ? i : i - outer;
            double angle = 2 * Math.PI * k / (isOuter ? outer : inner);
            double radius = isOuter ? 1.0 : 0.5;
            p[2 * i] = radius * Math.Cos(angle);
            p[2 * i + 1] = radius * Math.Sin(angle);
        }
        Shuffle(p, n, random);
        for (int i = 0; i < 2 * n; i++) p[i] = 3 * (p[i] + 0.08 * Normal(random));
    }

    private static void Rings(double[] p, int n, Random random)
    {
        // Radii 1, 0.75, 0.5, 0.25 (×3); n/4 points evenly on each of the first three, the rest on the innermost.
        int quarter = n / 4;
        int[] counts = [quarter, quarter, quarter, n - 3 * quarter];
        double[] radii = [1.0, 0.75, 0.5, 0.25];
        int i = 0;
        for (int ring = 0; ring < 4; ring++)
        {
            for (int k = 0; k < counts[ring]; k++, i++)
            {
                double angle = 2 * Math.PI * k / counts[ring];
                p[2 * i] = 3 * radii[ring] * Math.Cos(angle);
                p[2 * i + 1] = 3 * radii[ring] * Math.Sin(angle);
            }
        }
        Shuffle(p, n, random);
        for (int j = 0; j < 2 * n; j++) p[j] += 0.08 * Normal(random);
    }

    private static void Moons(double[] p, int n, Random random)
    {
        // make_moons(noise = 0.1): the upper arc (cos s, sin s) and the lower (1 − cos s, 0.5 − sin s), s ∈ [0, π]; then ×2 − (1, 0.2).
        int outer = n / 2, inner = n - outer;
        for (int i = 0; i < n; i++)
        {
            bool isOuter = i < outer;
            int k = isOuter ? i : i - outer;
            int count = isOuter ? outer : inner;
            double s = count > 1 ? Math.PI * k / (count - 1) : 0;
            p[2 * i] = isOuter ? Math.Cos(s) : 1 - Math.Cos(s);
            p[2 * i + 1] = isOuter ? Math.Sin(s) : 0.5 - Math.Sin(s);
        }
        Shuffle(p, n, random);
        for (int i = 0; i < n; i++)
        {
            p[2 * i] = 2 * (p[2 * i] + 0.1 * Normal(random)) - 1;
            p[2 * i + 1] = 2 * (p[2 * i + 1] + 0.1 * Normal(random)) - 0.2;
        }
    }

    private static void EightGaussians(double[] p, int n, Random random)
    {
        double r = 1 / Math.Sqrt(2);
        ReadOnlySpan<double> cx = [1, -1, 0, 0, r, r, -r, -r];
        ReadOnlySpan<double> cy = [0, 0, 1, -1, r, -r, r, -r];
        for (int i = 0; i < n; i++)
        {
            double x = 0.5 * Normal(random), y = 0.5 * Normal(random);
            int c = random.Next(8);
            p[2 * i] = (x + 4 * cx[c]) / 1.414;
            p[2 * i + 1] = (y + 4 * cy[c]) / 1.414;
        }
    }

    private static void Pinwheel(double[] p, int n, Random random)
    {
        // Five arms; a point's radial feature r ~ 1 + 0.3·N(0, 1) and tangential one 0.1·N(0, 1) are rotated by the
        // arm's angle plus 0.25·exp(r), then everything is ×2. n is rounded down to a multiple of 5 as FFJORD does,
        // and the remaining rows repeat the first arms so that exactly n points are returned.
        const int arms = 5;
        int perArm = Math.Max(1, n / arms);
        for (int i = 0; i < n; i++)
        {
            int arm = (i / perArm) % arms;
            double radial = 1 + 0.3 * Normal(random), tangential = 0.1 * Normal(random);
            double angle = 2 * Math.PI * arm / arms + 0.25 * Math.Exp(radial);
            double c = Math.Cos(angle), s = Math.Sin(angle);
            p[2 * i] = 2 * (radial * c + tangential * s);
            p[2 * i + 1] = 2 * (-radial * s + tangential * c);
        }
        Shuffle(p, n, random);
    }

    private static void TwoSpirals(double[] p, int n, Random random)
    {
        int half = n / 2;
        for (int i = 0; i < n; i++)
        {
            double u = Math.Sqrt(random.NextDouble()) * 540 * (2 * Math.PI) / 360;
            double x = -Math.Cos(u) * u + random.NextDouble() * 0.5;
            double y = Math.Sin(u) * u + random.NextDouble() * 0.5;
            double sign = i < half ? 1 : -1;
            p[2 * i] = sign * x / 3 + 0.1 * Normal(random);
            p[2 * i + 1] = sign * y / 3 + 0.1 * Normal(random);
        }
        Shuffle(p, n, random);
    }

    private static void Checkerboard(double[] p, int n, Random random)
    {
        for (int i = 0; i < n; i++)
        {
            double x1 = random.NextDouble() * 4 - 2;
            double x2 = random.NextDouble() - random.Next(2) * 2 + (((int)Math.Floor(x1) % 2) + 2) % 2;
            p[2 * i] = 2 * x1;
            p[2 * i + 1] = 2 * x2;
        }
    }

    /// <summary>Fisher–Yates over the n rows of a row-major n × 2 array.</summary>
    private static void Shuffle(double[] p, int n, Random random)
    {
        for (int i = n - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (p[2 * i], p[2 * j]) = (p[2 * j], p[2 * i]);
            (p[2 * i + 1], p[2 * j + 1]) = (p[2 * j + 1], p[2 * i + 1]);
        }
    }
}
