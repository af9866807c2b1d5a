using System.Numerics;
using NeuralOde.AutoDiff;

namespace NeuralOde.Core.Flows;

/// <summary>
/// Which pass, if any, holds a reusable object: the tape it was recorded on and that tape's epoch. The object is free
/// again once the tape is reset, or collected (the reference is weak, so a tape the caller dropped is not kept alive).
/// </summary>
internal sealed class TapeClaim<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly WeakReference<Tape<T>?> owner = new(null);
    private int epoch;

    /// <summary>Whether no pass alive holds the object: it was never claimed, or its tape was reset (or collected) since.</summary>
    public bool IsFree => !owner.TryGetTarget(out var tape) || tape is null || tape.Epoch != epoch;

    /// <summary>Reserves the object for the pass being recorded on <paramref name="tape"/> until the tape is reset.</summary>
    public void Claim(Tape<T> tape)
    {
        owner.SetTarget(tape);
        epoch = tape.Epoch;
    }
}
