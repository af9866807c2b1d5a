using System.Numerics;
using NeuralOde.Core.DenseOutput;
using NeuralOde.Core.Events;

namespace NeuralOde.Core;

/// <summary>The saved states of a solve, one row-major state per saved time, viewed as spans.</summary>
/// <typeparam name="T">The state's element type.</typeparam>
public readonly struct SavedStates<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] values;
    private readonly int dimension;

    internal SavedStates(T[] values, int dimension, int count)
    {
        this.values = values;
        this.dimension = dimension;
        Count = count;
    }

    /// <summary>The number of saved states.</summary>
    public int Count { get; }

    /// <summary>The state saved at index <paramref name="index"/> (a view into the solution).</summary>
    /// <param name="index">The saved-time index.</param>
    /// <returns>The state, of the dynamics' dimension.</returns>
    public ReadOnlySpan<T> this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return values.AsSpan(index * dimension, dimension);
        }
    }
}

/// <summary>The result of a solve: saved times and states, statistics, events, and the failure if any.</summary>
/// <typeparam name="T">The state's element type.</typeparam>
public sealed class OdeSolution<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] values;

    internal OdeSolution(double[] times, T[] values, int dimension, SolveStats stats, IReadOnlyList<StepRecord>? steps, IReadOnlyList<EventOccurrence<T>> events, bool terminatedByEvent, OdeSolverException? failure)
    {
        Times = times;
        this.values = values;
        Dimension = dimension;
        Stats = stats;
        Steps = steps;
        Events = events;
        TerminatedByEvent = terminatedByEvent;
        Failure = failure;
    }

    /// <summary>The saved times reached (all requested ones unless the solve failed or a terminal event stopped it).</summary>
    public IReadOnlyList<double> Times { get; }

    /// <summary>The state length.</summary>
    public int Dimension { get; }

    /// <summary>The saved states: <c>States[i]</c> is the state at <c>Times[i]</c>.</summary>
    public SavedStates<T> States => new(values, Dimension, Times.Count);

    /// <summary>All saved states, row-major (Times.Count × Dimension).</summary>
    public ReadOnlySpan<T> Values => values.AsSpan(0, Times.Count * Dimension);

    /// <summary>Function evaluations, accepted and rejected steps, last step size.</summary>
    public SolveStats Stats { get; }

    /// <summary>The accepted steps, when <see cref="SolveOptions.RecordSteps"/> was set; otherwise null.</summary>
    public IReadOnlyList<StepRecord>? Steps { get; }

    /// <summary>The events that occurred, in time order.</summary>
    public IReadOnlyList<EventOccurrence<T>> Events { get; }

    /// <summary>The continuous solution, when <see cref="SolveOptions.DenseOutput"/> was set; otherwise null.</summary>
    public DenseInterpolant<T>? Dense { get; init; }

    /// <summary>Whether a terminal event ended the solve.</summary>
    public bool TerminatedByEvent { get; }

    /// <summary>Why the solve stopped early (only from <see cref="Ode.TrySolve{T}"/>); null on success.</summary>
    public OdeSolverException? Failure { get; }

    /// <summary>Whether the solve reached its last time or a terminal event.</summary>
    public bool Succeeded => Failure is null;
}
