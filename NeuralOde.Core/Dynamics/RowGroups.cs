namespace NeuralOde.Core.Dynamics;

/// <summary>
/// A state of column groups over the same B rows, [group 0 (B × w₀) | group 1 (B × w₁) | …], each group row-major: a
/// CNF's [z (B × D) | Δ (B) | regularisers (B each)]. Row r of the system is row r of every group, so rows
/// [first, first + count) of the state are one slice per group; gathered, they form a state of the same layout over
/// count rows.
/// </summary>
internal sealed class RowGroups
{
    private readonly int[] widths;

    /// <summary>B rows, one group per width.</summary>
    /// <exception cref="ArgumentOutOfRangeException">B or a width is not positive.</exception>
    public RowGroups(int rows, params int[] widths)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfZero(widths.Length, nameof(widths));
        foreach (int w in widths) ArgumentOutOfRangeException.ThrowIfNegativeOrZero(w, nameof(widths));
        Rows = rows;
        this.widths = (int[])widths.Clone();
        Columns = widths.Sum();
    }

    /// <summary>B.</summary>
    public int Rows { get; }

    /// <summary>Elements of one row, summed over the groups.</summary>
    public int Columns { get; }

    /// <summary>Copies rows [first, first + count) of <paramref name="state"/> (B rows) into <paramref name="block"/> (count rows, the same groups).</summary>
    public void Gather<T>(ReadOnlySpan<T> state, int first, int count, Span<T> block)
    {
        int source = 0, target = 0;
        foreach (int w in widths)
        {
            state.Slice(source + first * w, count * w).CopyTo(block.Slice(target, count * w));
            source += Rows * w;
            target += count * w;
        }
    }

    /// <summary>Copies <paramref name="block"/> (count rows) back into rows [first, first + count) of <paramref name="state"/>.</summary>
    public void Scatter<T>(ReadOnlySpan<T> block, int first, int count, Span<T> state)
    {
        int source = 0, target = 0;
        foreach (int w in widths)
        {
            block.Slice(source, count * w).CopyTo(state.Slice(target + first * w, count * w));
            source += count * w;
            target += Rows * w;
        }
    }
}
