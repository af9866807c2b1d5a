using System.Collections;
using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core;

/// <summary>A resumable solve: an enumerable of accepted steps for those who step by hand.</summary>
/// <typeparam name="T">The state's element type.</typeparam>
/// <remarks>
/// Each <see cref="MoveNext"/> attempts steps until one is accepted (rejections are counted in <see cref="Stats"/>),
/// then exposes it: <see cref="Current"/> (its start, size and end), <see cref="State"/> (the state at its end) and
/// <see cref="Interpolate"/> (dense output inside it). Enumeration ends when the end time is reached. Buffers are
/// allocated once: stepping allocates nothing. A numerical failure throws <see cref="OdeSolverException"/>.
/// </remarks>
public sealed class OdeStepper<T> : IEnumerable<StepRecord>, IEnumerator<StepRecord>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Integrator<T> integrator;
    private readonly double t0, t1;
    private readonly T[] y0;
    private bool started, finished;

    internal OdeStepper(IDynamics<T> f, ReadOnlySpan<T> y0, double t0, double t1, SolveOptions options)
    {
        integrator = new Integrator<T>(f, options, null);
        this.y0 = y0.ToArray();
        this.t0 = t0;
        this.t1 = t1;
    }

    /// <summary>The last accepted step.</summary>
    public StepRecord Current { get; private set; }

    object IEnumerator.Current => Current;

    /// <summary>The end of the last accepted step (t0 before the first).</summary>
    public double Time => !started ? t0 : pendingCommit ? Current.EndTime : integrator.Time;

    /// <summary>The state at the end of the last accepted step (y0 before the first).</summary>
    public ReadOnlySpan<T> State => !started ? y0 : pendingCommit ? integrator.StepEndState : integrator.State;

    /// <summary>Function evaluations and step counts so far.</summary>
    public SolveStats Stats => integrator.Stats;

    /// <summary>Takes steps until one is accepted.</summary>
    /// <returns>False once the end time has been reached.</returns>
    /// <exception cref="OdeSolverException">The solve failed numerically.</exception>
    public bool MoveNext()
    {
        if (finished) return false;
        CommitPending();
        if (!started)
        {
            started = true;
            SolveFailure start = integrator.Start(t0, t1, y0);
            if (start != SolveFailure.None) throw new OdeSolverException(start, t0, integrator.NextStepSize, 0);
        }
        if (Math.Sign(t1 - t0) * (integrator.Time - t1) >= 0)
        {
            finished = true;
            return false;
        }
        double tStart = integrator.Time;
        SolveFailure failure = integrator.Advance(out double tNew, out double h);
        if (failure != SolveFailure.None) throw OdeSolverException.FromLoop(failure, integrator.Time, h, integrator.AttemptedSteps, integrator.Stats);
        Current = new StepRecord(tStart, integrator.Stats.LastStepSize, tNew);
        pendingCommit = true;
        return true;
    }

    private bool pendingCommit;

    /// <summary>Writes the state at <paramref name="time"/> inside the last accepted step (its continuous extension).</summary>
    /// <param name="time">A time between <see cref="Current"/>'s start and end.</param>
    /// <param name="destination">Receives the state.</param>
    /// <exception cref="InvalidOperationException">No step has been taken yet.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="time"/> lies outside the last step.</exception>
    public void Interpolate(double time, Span<T> destination)
    {
        if (!pendingCommit) throw new InvalidOperationException("Call MoveNext first: there is no accepted step to interpolate in.");
        double lo = Math.Min(Current.Time, Current.EndTime), hi = Math.Max(Current.Time, Current.EndTime);
        if (!(time >= lo && time <= hi)) throw new ArgumentOutOfRangeException(nameof(time), time, $"The last step covers [{lo:R}, {hi:R}].");
        integrator.InterpolateInStep(time, destination);
    }

    /// <summary>Moves past the last accepted step; called by <see cref="MoveNext"/> implicitly when needed.</summary>
    private void CommitPending()
    {
        if (!pendingCommit) return;
        integrator.Commit(Current.EndTime, restart: false);
        pendingCommit = false;
    }

    /// <summary>Not supported: a stepper cannot rewind.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public void Reset() => throw new NotSupportedException("An OdeStepper cannot rewind; create a new one with Ode.Steps.");

    /// <summary>Nothing to release.</summary>
    public void Dispose() { }

    /// <summary>This stepper (it is its own enumerator; enumerate it once).</summary>
    /// <returns>This instance.</returns>
    public IEnumerator<StepRecord> GetEnumerator() => this;

    IEnumerator IEnumerable.GetEnumerator() => this;
}
