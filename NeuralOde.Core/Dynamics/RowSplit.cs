using System.Numerics;
using NeuralOde.AutoDiff.Threading;

namespace NeuralOde.Core.Dynamics;

/// <summary>How many row blocks an evaluation of row-independent dynamics is split into, one per core.</summary>
/// <remarks>
/// Splitting pays when one block's work is much larger than a pool run's hand-off (about a microsecond): at least
/// <see cref="MinimumRowsPerPart"/> rows per block and rows × parameters (a proxy for the multiply–adds of one
/// evaluation) of at least <see cref="MinimumWork"/>. The count follows the machine's cores, as a large GEMM's split
/// does: each row of f and of ∂f/∂y is computed exactly as unsplit, but the parameter gradient sums the blocks'
/// partial sums, so its rounding depends on the count.
/// </remarks>
internal static class RowSplit
{
    /// <summary>The fewest rows a block gets.</summary>
    public const int MinimumRowsPerPart = 32;

    /// <summary>The least rows × parameters worth splitting.</summary>
    public const long MinimumWork = 1 << 18;

    /// <summary>When set (tests), the split to use instead of the machine's, still capped at one <see cref="RowAlignment"/> of rows per block.</summary>
    [ThreadStatic] internal static int? ForcedParts;

    /// <summary>The number of row blocks for <paramref name="f"/> on the running machine (its processor count); 1 means no split.</summary>
    /// <exception cref="ArgumentException">f claims independent rows that do not divide its dimension.</exception>
    public static int Parts<T>(IDifferentiableDynamics<T> f)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = f.IndependentRows;
        if (rows < 1 || f.Dimension % rows != 0)
            throw new ArgumentException($"The dynamics declare {rows} independent rows, which do not divide their dimension {f.Dimension}.", nameof(f));
        return Parts(rows, f.Parameters.Length);
    }

    /// <summary>The number of row blocks for <paramref name="rows"/> independent rows of dynamics with <paramref name="parameters"/> parameters.</summary>
    public static int Parts(int rows, int parameters)
    {
        int aligned = Math.Max(1, rows / RowAlignment);
        if (ForcedParts is int forced) return Math.Clamp(forced, 1, aligned);
        if (rows < 2 * MinimumRowsPerPart || (long)rows * parameters < MinimumWork) return 1;
        return Math.Min(WorkerPool.Shared.Participants, rows / MinimumRowsPerPart);
    }

    /// <summary>Every block but the last starts and ends on a multiple of this many rows.</summary>
    /// <remarks>
    /// Element-wise kernels run whole SIMD registers from the start of a buffer and finish with a scalar tail, whose
    /// arithmetic may differ from the vector body's (e.g. exp in softplus). A block boundary at a multiple of 16 rows is
    /// a multiple of 16 elements in every layer's buffer, so each element lands in the same lane of the same kind of
    /// operation as in the unsplit evaluation, up to AVX-512 floats.
    /// </remarks>
    public const int RowAlignment = 16;

    /// <summary>The first row of block <paramref name="part"/> of <paramref name="parts"/> over <paramref name="rows"/> rows (part = parts gives rows).</summary>
    public static int Start(int rows, int part, int parts) =>
        part >= parts ? rows : (int)((long)rows * part / parts) / RowAlignment * RowAlignment;
}
