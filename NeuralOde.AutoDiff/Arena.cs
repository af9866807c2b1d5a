namespace NeuralOde.AutoDiff;

/// <summary>A chunked bump allocator: fixed-size blocks, never copied on growth, reused after <see cref="Reset"/>.</summary>
/// <remarks>
/// A request that does not fit in the rest of the current block moves on to the next block big enough for it (a
/// block smaller than the request is passed over for this epoch); when none is left, a new block of
/// max(<see cref="ChunkLength"/>, request, min(what is already reserved, 2^24)) elements is appended: blocks grow
/// geometrically to 2^24 elements, and no array exceeds 2^31 elements. After warm-up the same sequence of requests allocates nothing.
/// </remarks>
internal sealed class Arena<T>
    where T : unmanaged
{
    private readonly List<T[]> chunks = [];
    private readonly List<int> starts = [];
    private readonly List<int> lengths = [];
    private int current = -1;
    private int used;
    private long reserved;
    private const long MaxGrowthLength = 1 << 24;

    public Arena(int chunkLength) => ChunkLength = chunkLength;

    public int ChunkLength { get; }

    /// <summary>Elements handed out since the last reset (excluding what was skipped at block ends).</summary>
    public long ElementsInUse { get; private set; }

    /// <summary>Elements held by all blocks.</summary>
    public long ElementsReserved => reserved;

    /// <summary>Reserves <paramref name="length"/> contiguous elements; their content is whatever was there before.</summary>
    public (int Chunk, int Offset) Allocate(int length)
    {
        if (current >= 0 && lengths[current] - used >= length)
        {
            int offset = starts[current] + used;
            used += length;
            ElementsInUse += length;
            return (current, offset);
        }

        int next = current + 1;
        while (next < chunks.Count && lengths[next] < length) next++;
        if (next == chunks.Count)
        {
            // Grow geometrically (up to 2^24 elements a block), so a tape that records a long solve makes few large
            // allocations rather than thousands of chunk-sized ones.
            int size = HugePages.BlockLength<T>(Math.Max(Math.Max(ChunkLength, length), (int)Math.Min(reserved, MaxGrowthLength)));
            var (array, start) = HugePages.Allocate<T>(size);
            chunks.Add(array);
            starts.Add(start);
            lengths.Add(size);
            reserved += size;
        }
        current = next;
        used = length;
        ElementsInUse += length;
        return (current, starts[current]);
    }

    public Span<T> Get(int chunk, int offset, int length) => chunks[chunk].AsSpan(offset, length);

    public ArenaMark Mark() => new(current, used, ElementsInUse);

    public void Rollback(ArenaMark mark)
    {
        current = mark.Chunk;
        used = mark.Used;
        ElementsInUse = mark.InUse;
    }

    public void Reset()
    {
        current = -1;
        used = 0;
        ElementsInUse = 0;
    }
}

/// <summary>A position in an <see cref="Arena{T}"/> to roll back to.</summary>
internal readonly record struct ArenaMark(int Chunk, int Used, long InUse);
