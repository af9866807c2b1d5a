using System.Numerics;

namespace NeuralOde.Core.StepSize;

/// <summary>A named, contiguous part of a flat state, e.g. z, log p or a_θ.</summary>
/// <param name="Name">The block's name (used in messages and to leave blocks out of a seminorm).</param>
/// <param name="Start">The index of its first element.</param>
/// <param name="Length">Its number of elements.</param>
public readonly record struct StateBlock(string Name, int Start, int Length);

/// <summary>The kind of an <see cref="ErrorNorm"/>.</summary>
public enum ErrorNormKind
{
    /// <summary>Root mean square over the whole state.</summary>
    Rms,

    /// <summary>Largest absolute component.</summary>
    Max,

    /// <summary>The largest of the blocks' root mean squares (torchdiffeq's norm for tuple states).</summary>
    BlockRms,
}

/// <summary>How the scaled error err / (atol + rtol·max(|y0|, |y1|)) is reduced to the one error ratio a controller sees.</summary>
/// <remarks>
/// <para>
/// A component whose scale atol + rtol·max(|y0|, |y1|) is 0 (atol = 0 and the component 0 at both ends, e.g. a CNF's
/// Δ log p at t = 0) has the scaled error 0 when its error is 0 and +∞ otherwise: the limit of err/scale as the scale
/// goes to 0, so an exactly known component never blocks a step and an inexact one is rejected. diffrax and scipy
/// divide literally and get 0/0 = NaN there (and from it a NaN initial step); every component with a positive scale
/// is scaled as they do. The initial-step probe uses the same norm.
/// </para>
/// <para>
/// A seminorm is <see cref="BlockRms"/> over only some blocks: the blocks left out (e.g. the adjoint's a_θ) do not
/// take part in step-size control at all.
/// </para>
/// </remarks>
public sealed class ErrorNorm
{
    private readonly StateBlock[] blocks;

    private ErrorNorm(ErrorNormKind kind, StateBlock[] blocks)
    {
        Kind = kind;
        this.blocks = blocks;
    }

    /// <summary>Root mean square over all elements (the default).</summary>
    public static ErrorNorm Rms { get; } = new(ErrorNormKind.Rms, []);

    /// <summary>The largest absolute scaled error.</summary>
    public static ErrorNorm Max { get; } = new(ErrorNormKind.Max, []);

    /// <summary>The kind of reduction.</summary>
    public ErrorNormKind Kind { get; }

    /// <summary>The blocks that take part (empty for <see cref="Rms"/> and <see cref="Max"/>).</summary>
    public IReadOnlyList<StateBlock> Blocks => blocks;

    /// <summary>The largest of the given blocks' RMS values; elements outside every block are ignored.</summary>
    /// <param name="blocks">The blocks; each must be non-empty.</param>
    /// <returns>The norm.</returns>
    /// <exception cref="ArgumentException">No blocks, or a block is empty or has a negative start.</exception>
    public static ErrorNorm BlockRms(params StateBlock[] blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Length == 0) throw new ArgumentException("Block RMS needs at least one block.", nameof(blocks));
        foreach (StateBlock b in blocks)
        {
            if (b.Start < 0 || b.Length < 1) throw new ArgumentException($"Block '{b.Name}' has start {b.Start} and length {b.Length}; both must be valid and the length positive.", nameof(blocks));
        }
        return new ErrorNorm(ErrorNormKind.BlockRms, (StateBlock[])blocks.Clone());
    }

    /// <summary>Block RMS over every block except those named in <paramref name="excluded"/>.</summary>
    /// <param name="blocks">All the state's blocks.</param>
    /// <param name="excluded">The names of the blocks left out of step-size control.</param>
    /// <returns>The seminorm.</returns>
    /// <exception cref="ArgumentException">A name matches no block, or every block is excluded.</exception>
    public static ErrorNorm Seminorm(IReadOnlyList<StateBlock> blocks, params string[] excluded)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        ArgumentNullException.ThrowIfNull(excluded);
        foreach (string name in excluded)
        {
            if (!blocks.Any(b => b.Name == name)) throw new ArgumentException($"No block is named '{name}'.", nameof(excluded));
        }
        StateBlock[] kept = [.. blocks.Where(b => !excluded.Contains(b.Name))];
        if (kept.Length == 0) throw new ArgumentException("A seminorm must keep at least one block.", nameof(excluded));
        return BlockRms(kept);
    }

    /// <summary>Checks that every block lies inside a state of <paramref name="dimension"/> elements.</summary>
    internal void Validate(int dimension)
    {
        foreach (StateBlock b in blocks)
        {
            if (b.Start + b.Length > dimension)
                throw new ArgumentException($"Block '{b.Name}' [{b.Start}, {b.Start + b.Length}) does not fit in a state of {dimension} elements.", "options");
        }
    }

    /// <summary>The norm of v / (atol + rtol·max(|ya|, |yb|)).</summary>
    internal double Compute<T>(ReadOnlySpan<T> v, ReadOnlySpan<T> ya, ReadOnlySpan<T> yb, ReadOnlySpan<double> atol, ReadOnlySpan<double> rtol)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (Kind)
        {
            case ErrorNormKind.Rms:
                return Math.Sqrt(SumOfSquares(v, ya, yb, atol, rtol, 0, v.Length) / v.Length);
            case ErrorNormKind.Max:
                double max = 0;
                for (int i = 0; i < v.Length; i++)
                {
                    double e = Math.Abs(Scaled(v, ya, yb, atol, rtol, i));
                    if (!(e <= max)) max = e;
                }
                return max;
            default:
                double result = 0;
                foreach (StateBlock b in blocks)
                {
                    double rms = Math.Sqrt(SumOfSquares(v, ya, yb, atol, rtol, b.Start, b.Length) / b.Length);
                    if (!(rms <= result)) result = rms;
                }
                return result;
        }
    }

    private static double SumOfSquares<T>(ReadOnlySpan<T> v, ReadOnlySpan<T> ya, ReadOnlySpan<T> yb, ReadOnlySpan<double> atol, ReadOnlySpan<double> rtol, int start, int length)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sum = 0;
        int end = start + length;
        if (atol.Length == 1 && rtol.Length == 1)
        {
            double a = atol[0], r = rtol[0];
            for (int i = start; i < end; i++)
            {
                double scale = a + r * Math.Max(Math.Abs(double.CreateTruncating(ya[i])), Math.Abs(double.CreateTruncating(yb[i])));
                double e = Quotient(double.CreateTruncating(v[i]), scale);
                sum += e * e;
            }
            return sum;
        }
        for (int i = start; i < end; i++)
        {
            double e = Scaled(v, ya, yb, atol, rtol, i);
            sum += e * e;
        }
        return sum;
    }

    private static double Scaled<T>(ReadOnlySpan<T> v, ReadOnlySpan<T> ya, ReadOnlySpan<T> yb, ReadOnlySpan<double> atol, ReadOnlySpan<double> rtol, int i)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double a = atol.Length == 1 ? atol[0] : atol[i];
        double r = rtol.Length == 1 ? rtol[0] : rtol[i];
        double scale = a + r * Math.Max(Math.Abs(double.CreateTruncating(ya[i])), Math.Abs(double.CreateTruncating(yb[i])));
        return Quotient(double.CreateTruncating(v[i]), scale);
    }

    /// <summary>e / scale, with 0/0 defined as 0 (see the class remarks); e/0 for e ≠ 0 is ±∞ as IEEE gives it.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static double Quotient(double e, double scale) => e == 0 && scale == 0 ? 0 : e / scale;
}
