using System.Numerics;
using NeuralOde.AutoDiff.Threading;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Batch;

/// <summary>Solves many initial conditions independently, each with its own step sizes, on the pre-started workers.</summary>
/// <typeparam name="T">The state's element type.</typeparam>
/// <remarks>
/// <para>
/// Unlike one solve of a B×D batch (one shared step size, as torchdiffeq), every instance here is its own solve, so a
/// hard instance does not slow the easy ones down. The instances are split into a fixed number of contiguous parts,
/// each with its own dynamics object and solver buffers, run by <see cref="WorkerPool"/>: a call allocates nothing
/// and gives the same bits whichever thread runs a part.
/// </para>
/// <para>Create one instance and reuse it; it is not safe to call <see cref="Solve"/> from several threads at once.</para>
/// </remarks>
public sealed class IndependentSolver<T> : IParallelWork
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Integrator<T>[] integrators;
    private readonly SaveAt saveAt;
    private readonly WorkerPool pool;
    private readonly int dimension;
    private T[] initial = [];
    private T[] output = [];
    private SolveStats[] stats = [];
    private readonly RunResult[] failures;
    private readonly int[] failedInstances;
    private int count;

    /// <summary>Creates the solver and the buffers of every part.</summary>
    /// <param name="createDynamics">Creates the dynamics of one part (called once per part, so each thread has its own scratch).</param>
    /// <param name="saveAt">The times every instance is saved at; the first is t0.</param>
    /// <param name="options">Method, controller, tolerances; null for the defaults.</param>
    /// <param name="pool">The workers; null for <see cref="WorkerPool.Shared"/>.</param>
    /// <param name="partCount">The number of parts; null for four per participating thread (balances instances of unequal cost).</param>
    /// <exception cref="ArgumentException">An argument is invalid.</exception>
    public IndependentSolver(Func<IDynamics<T>> createDynamics, SaveAt saveAt, SolveOptions? options = null, WorkerPool? pool = null, int? partCount = null)
    {
        ArgumentNullException.ThrowIfNull(createDynamics);
        ArgumentNullException.ThrowIfNull(saveAt);
        options ??= new SolveOptions();
        this.pool = pool ?? WorkerPool.Shared;
        int parts = partCount ?? 4 * this.pool.Participants;
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1, nameof(partCount));
        this.saveAt = saveAt;
        integrators = new Integrator<T>[parts];
        for (int p = 0; p < parts; p++)
        {
            IDynamics<T> f = createDynamics();
            if (p == 0)
            {
                dimension = f.Dimension;
                if (dimension < 1) throw new ArgumentException($"The dynamics' Dimension is {dimension}; it must be positive.", nameof(createDynamics));
                Ode.ValidateOptions(options, dimension, saveAt);
            }
            else if (f.Dimension != dimension)
            {
                throw new ArgumentException($"createDynamics returned dynamics of Dimension {f.Dimension} after {dimension}.", nameof(createDynamics));
            }
            integrators[p] = new Integrator<T>(f, options, null);
        }
        failures = new RunResult[parts];
        failedInstances = new int[parts];
    }

    /// <summary>The state length of one instance.</summary>
    public int Dimension => dimension;

    /// <summary>Solves every instance.</summary>
    /// <param name="initialStates">count × Dimension initial states, row-major.</param>
    /// <param name="states">Receives count × saveAt.Count × Dimension states (instance-major).</param>
    /// <param name="statistics">Receives one <see cref="SolveStats"/> per instance.</param>
    /// <exception cref="ArgumentException">The arrays' lengths do not match, or an initial state is not finite.</exception>
    /// <exception cref="OdeSolverException">An instance failed numerically: the lowest-indexed failed instance, in <see cref="OdeSolverException.Instance"/> and the message.</exception>
    public void Solve(T[] initialStates, T[] states, SolveStats[] statistics)
    {
        ArgumentNullException.ThrowIfNull(initialStates);
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(statistics);
        if (initialStates.Length == 0 || initialStates.Length % dimension != 0)
            throw new ArgumentException($"initialStates has {initialStates.Length} elements, not a positive multiple of the dimension {dimension}.", nameof(initialStates));
        int instances = initialStates.Length / dimension;
        if (states.Length != instances * saveAt.Count * dimension)
            throw new ArgumentException($"states has {states.Length} elements; {instances} instances × {saveAt.Count} times × {dimension} need {instances * saveAt.Count * dimension}.", nameof(states));
        if (statistics.Length != instances)
            throw new ArgumentException($"statistics has {statistics.Length} entries for {instances} instances.", nameof(statistics));
        for (int i = 0; i < initialStates.Length; i++)
        {
            if (!T.IsFinite(initialStates[i])) throw new ArgumentException($"initialStates[{i}] = {initialStates[i]} is not finite.", nameof(initialStates));
        }

        initial = initialStates;
        output = states;
        stats = statistics;
        count = instances;
        Array.Clear(failures);
        pool.Run(this, Math.Min(integrators.Length, instances));
        initial = output = [];
        stats = [];
        for (int part = 0; part < failures.Length; part++)
        {
            RunResult failure = failures[part];
            if (failure.Failure != SolveFailure.None)
            {
                int instance = failedInstances[part];
                throw new OdeSolverException(failure.Failure, failure.FailureTime, failure.FailureStep, failure.AttemptedSteps,
                    $"Instance {instance} (of {instances}) failed: {failure.Failure.Describe(failure.FailureTime, failure.FailureStep, failure.AttemptedSteps)}", instance);
            }
        }
    }

    /// <inheritdoc/>
    public void Execute(int part, int partCount)
    {
        Integrator<T> integrator = integrators[part];
        int start = (int)((long)count * part / partCount);
        int end = (int)((long)count * (part + 1) / partCount);
        int n = dimension, perInstance = saveAt.Count * n;
        for (int i = start; i < end; i++)
        {
            RunResult result = integrator.Run(saveAt.TimesArray, saveAt.FirstSavedIndex, initial.AsSpan(i * n, n), output.AsSpan(i * perInstance, perInstance), null, null);
            stats[i] = result.Stats;
            if (result.Failure != SolveFailure.None && failures[part].Failure == SolveFailure.None)
            {
                failures[part] = result;
                failedInstances[part] = i;
            }
        }
    }
}
