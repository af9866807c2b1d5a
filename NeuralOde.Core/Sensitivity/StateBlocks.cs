using System.Numerics;
using System.Runtime.CompilerServices;

namespace NeuralOde.Core.Sensitivity;

/// <summary>
/// A growable list of n-element states stored in fixed blocks, so growing never copies what is stored and never holds
/// a doubled array beside the old one (the unbudgeted checkpoint store of 10,000 states of 512 floats: 20 MiB of states
/// rather than a 32 MiB array plus the 16 MiB one it was copied from).
/// </summary>
internal sealed class StateBlocks<T>
    where T : unmanaged, INumberBase<T>
{
    private const int BlockBytes = 1 << 16;
    private readonly List<T[]> blocks = [];
    private int n;
    private int statesPerBlock = 1;

    /// <summary>Elements per state.</summary>
    public int StateLength => n;

    /// <summary>How many states the blocks can hold without growing.</summary>
    public int Capacity => blocks.Count * statesPerBlock;

    /// <summary>Bytes of the blocks.</summary>
    public long BytesHeld => (long)blocks.Count * statesPerBlock * n * Unsafe.SizeOf<T>();

    /// <summary>Sets the state length, dropping the blocks if it changes; <paramref name="fixedCapacity"/> makes one block of exactly that many states.</summary>
    public void Reset(int stateLength, int? fixedCapacity)
    {
        int perBlock = fixedCapacity ?? Math.Max(1, BlockBytes / (stateLength * Unsafe.SizeOf<T>()));
        if (stateLength == n && perBlock == statesPerBlock) return;
        blocks.Clear();
        n = stateLength;
        statesPerBlock = perBlock;
        if (fixedCapacity is int k) blocks.Add(new T[k * n]);
    }

    /// <summary>State <paramref name="index"/>, adding blocks as needed.</summary>
    public Span<T> this[int index]
    {
        get
        {
            int block = index / statesPerBlock;
            while (blocks.Count <= block) blocks.Add(new T[statesPerBlock * n]);
            return blocks[block].AsSpan(index % statesPerBlock * n, n);
        }
    }
}
