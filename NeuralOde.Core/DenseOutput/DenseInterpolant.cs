using System.Globalization;
using System.Numerics;
using NeuralOde.Core.Solvers;

namespace NeuralOde.Core.DenseOutput;

/// <summary>The continuous solution of a whole solve: the state at any time between t0 and the end, from the accepted steps.</summary>
/// <typeparam name="T">The state's element type.</typeparam>
/// <remarks>
/// Inside each accepted step it uses the method's own continuous extension, y0 + h·Σ b_i(θ)·k_i (Dormand–Prince,
/// Tsitouras, RK8(7)13M), or else cubic Hermite through (y0, f0) and (y1, f1). It keeps every step's start state and
/// stages, so its memory grows with the number of steps; ask for it with <see cref="SolveOptions.DenseOutput"/>.
/// </remarks>
public sealed class DenseInterpolant<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ButcherTableau tableau;
    private readonly int dimension;
    private readonly List<double> starts = [];
    private readonly List<double> sizes = [];
    private readonly List<double> ends = [];
    private readonly List<T[]> data = [];
    // Whether step i is stored for cubic Hermite (a stepper other than the tableau's, e.g. a stiff one) or as stages.
    private readonly List<bool> hermite = [];
    // Blocks of a cleared solve, reused by the next one (a solve repeated per training iteration allocates nothing).
    private readonly List<T[]> spare = [];
    private readonly double[] weights;
    private readonly T[] coefficients;

    internal DenseInterpolant(ButcherTableau tableau, int dimension)
    {
        this.tableau = tableau;
        this.dimension = dimension;
        weights = new double[tableau.Stages];
        coefficients = new T[tableau.Stages];
    }

    /// <summary>The initial time.</summary>
    public double StartTime => starts.Count > 0 ? starts[0] : double.NaN;

    /// <summary>The last time covered (the end of the last accepted step, or the cut of a terminal event).</summary>
    public double EndTime => ends.Count > 0 ? ends[^1] : double.NaN;

    /// <summary>The number of accepted steps stored.</summary>
    public int StepCount => starts.Count;

    /// <summary>Records a step from its start state and stages (the method's own extension).</summary>
    internal void AddStages(double start, double size, double end, ReadOnlySpan<T> y0, ReadOnlySpan<T> stages)
    {
        int n = dimension, s = tableau.Stages;
        var block = Block((s + 1) * n);
        y0[..n].CopyTo(block);
        stages[..(s * n)].CopyTo(block.AsSpan(n));
        Add(start, size, end, block, isHermite: false);
    }

    /// <summary>Records a step for cubic Hermite interpolation.</summary>
    internal void AddHermite(double start, double size, double end, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0, ReadOnlySpan<T> y1, ReadOnlySpan<T> f1)
    {
        int n = dimension;
        var block = Block(4 * n);
        y0.CopyTo(block);
        f0.CopyTo(block.AsSpan(n));
        y1.CopyTo(block.AsSpan(2 * n));
        f1.CopyTo(block.AsSpan(3 * n));
        Add(start, size, end, block, isHermite: true);
    }

    /// <summary>Forgets every step (for a new solve).</summary>
    internal void Clear()
    {
        starts.Clear();
        sizes.Clear();
        ends.Clear();
        spare.AddRange(data);
        data.Clear();
        hermite.Clear();
    }

    private T[] Block(int length)
    {
        for (int i = spare.Count - 1; i >= 0; i--)
        {
            if (spare[i].Length != length) continue;
            T[] block = spare[i];
            spare[i] = spare[^1];
            spare.RemoveAt(spare.Count - 1);
            return block;
        }
        return new T[length];
    }

    private void Add(double start, double size, double end, T[] block, bool isHermite)
    {
        hermite.Add(isHermite);
        starts.Add(start);
        sizes.Add(size);
        ends.Add(end);
        data.Add(block);
    }

    /// <summary>Writes the state at <paramref name="time"/>.</summary>
    /// <param name="time">A time between <see cref="StartTime"/> and <see cref="EndTime"/>.</param>
    /// <param name="destination">Receives the state (length = the state's dimension).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="time"/> lies outside the solve.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has the wrong length.</exception>
    public void Evaluate(double time, Span<T> destination)
    {
        if (destination.Length != dimension) throw new ArgumentException($"destination has {destination.Length} elements, expected {dimension}.", nameof(destination));
        int count = starts.Count;
        if (count == 0) throw new ArgumentOutOfRangeException(nameof(time), time, "The solve took no steps.");
        double direction = Math.Sign(sizes[0]);
        if (!(direction * (time - StartTime) >= 0 && direction * (time - EndTime) <= 0))
            throw new ArgumentOutOfRangeException(nameof(time), time, $"t = {time.ToString("R", CultureInfo.InvariantCulture)} lies outside the solve [{StartTime.ToString("R", CultureInfo.InvariantCulture)}, {EndTime.ToString("R", CultureInfo.InvariantCulture)}].");

        // The first step whose end is at or beyond time (in the direction of the solve).
        int lo = 0, hi = count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (direction * (ends[mid] - time) >= 0) hi = mid;
            else lo = mid + 1;
        }
        double h = sizes[lo];
        double theta = (time - starts[lo]) / h;
        T[] block = data[lo];
        int n = dimension;
        if (!hermite[lo])
        {
            tableau.DenseWeights(theta, weights);
            for (int i = 0; i < weights.Length; i++) coefficients[i] = T.CreateTruncating(h * weights[i]);
            StepInterpolation.Combine<T>(block.AsSpan(0, n), block.AsSpan(n), coefficients, weights.Length, destination);
            return;
        }
        StepInterpolation.Hermite<T>(block.AsSpan(0, n), block.AsSpan(n, n), block.AsSpan(2 * n, n), block.AsSpan(3 * n, n), h, theta, destination);
    }
}
