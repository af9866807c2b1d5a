namespace NeuralOde.AutoDiff.Threading;

/// <summary>A piece of work split into a fixed number of parts, run by <see cref="WorkerPool"/>.</summary>
/// <remarks>
/// Implement it on a class that the caller allocates once and reuses: a pool run then allocates nothing. Each part
/// must touch disjoint output, and which elements belong to a part must depend only on the part index and the part
/// count, so results are bitwise reproducible whatever thread runs a part.
/// </remarks>
public interface IParallelWork
{
    /// <summary>Runs part <paramref name="part"/> of <paramref name="partCount"/>.</summary>
    /// <param name="part">The part index, from 0 to <paramref name="partCount"/> − 1.</param>
    /// <param name="partCount">The number of parts the work was split into.</param>
    void Execute(int part, int partCount);
}
