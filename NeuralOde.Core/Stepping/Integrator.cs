using System.Numerics;
using NeuralOde.Core.DenseOutput;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Events;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Core;

/// <summary>What one run of an <see cref="Integrator{T}"/> produced besides the saved states.</summary>
internal readonly record struct RunResult(SolveStats Stats, int SavedCount, SolveFailure Failure, double FailureTime, double FailureStep, int AttemptedSteps, bool TerminatedByEvent);

/// <summary>
/// The one step loop, over any <see cref="IStepper{T}"/>: the controller's accept/reject, landing on step-to, jump and
/// end times, MaxSteps and underflow, outputs served by interpolation, events, dense output and statistics. Plain
/// solves, <see cref="OdeStepper{T}"/>, the batch solver, every recording gradient and the adjoint's backward solve
/// run it; a strategy that needs the steps listens (<see cref="IStepListener{T}"/>) instead of re-deriving them.
/// Owns every buffer, so a run allocates nothing per step (event location excepted).
/// </summary>
internal sealed class Integrator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A step that would end within this fraction of its size before a landing time lands on it instead.</summary>
    private const double LandingSlack = FixedGrid.LandingSlack;

    private readonly IDynamics<T> f;
    private readonly int n;
    private readonly int stateLength;
    private readonly IStepper<T> stepper;
    private readonly IStepperStatistics? stepperStatistics;
    private readonly IStiffnessEstimate? stiffnessEstimate;
    private readonly PiController? pi;
    private readonly double fixedStep;
    private readonly ErrorNorm norm;
    private readonly double[] atol;
    private readonly double[] rtol;
    private readonly int maxSteps;
    private readonly bool stepPastEnd;
    private readonly double[] stepTo;
    private readonly double[] jumps;
    private readonly EventLocator<T> events;
    private readonly T[] y, yNew, err, fCur, fEnd, f0;

    // State of the current step, for interpolation.
    private double stepStart, stepSize, stepEnd;
    private bool fEndValid;
    private bool stepEndDerivative;

    public Integrator(IDynamics<T> f, SolveOptions options, IReadOnlyList<OdeEvent<T>>? events, IStepper<T>? stepper = null)
    {
        this.f = f;
        n = f.Dimension;
        this.stepper = stepper ?? UserStepper(options.Stepper, options, n) ?? new ExplicitRungeKutta<T>(options.Method, n) { TorchdiffeqStageTimes = options.TorchdiffeqStageTimes };
        stepperStatistics = this.stepper as IStepperStatistics;
        stiffnessEstimate = this.stepper as IStiffnessEstimate;
        if (this.stepper.OutputDimension != n)
            throw new ArgumentException($"The stepper's solution has {this.stepper.OutputDimension} elements but the dynamics' Dimension is {n}.", nameof(stepper));
        stateLength = this.stepper.Dimension;
        pi = options.StepSize as PiController;
        fixedStep = options.StepSize is FixedStep fs ? fs.StepSize : 0;
        norm = options.Norm;
        atol = options.AbsoluteTolerances is { } al ? [.. al] : [options.AbsoluteTolerance];
        rtol = options.RelativeTolerances is { } rl ? [.. rl] : [options.RelativeTolerance];
        maxSteps = options.MaxSteps;
        stepPastEnd = options.StepPastEnd;
        stepTo = [.. options.StepToTimes];
        jumps = [.. options.JumpTimes];
        this.events = new EventLocator<T>(events ?? [], n, Interpolate);
        y = new T[stateLength];
        yNew = new T[stateLength];
        err = new T[n];
        fCur = new T[n];
        f0 = new T[n];
        fEnd = new T[n];
    }

    /// <summary>The stepper <paramref name="factory"/> makes for states of <paramref name="n"/> elements, checked; null without a factory.</summary>
    private static IStepper<T>? UserStepper(IStepperFactory? factory, SolveOptions options, int n)
    {
        if (factory is null) return null;
        var made = factory.Create<T>(n, options.StepperTolerances()) ?? throw new ArgumentException($"options.Stepper ({factory.GetType().Name}) returned no stepper for dimension {n}.", "options");
        if (made.Dimension != n || made.OutputDimension != n)
            throw new ArgumentException($"options.Stepper ({factory.GetType().Name}) made a stepper of Dimension {made.Dimension} and OutputDimension {made.OutputDimension} for dimension {n}: both must be {n}.", "options");
        return made;
    }

    /// <summary>The dynamics' dimension (the solution's length).</summary>
    public int Dimension => n;

    /// <summary>Receives the attempts, accepted steps and served outputs of <see cref="Run"/> and <see cref="Advance"/>, or null.</summary>
    public IStepListener<T>? Listener { get; set; }

    /// <summary>The stepper the loop drives.</summary>
    public IStepper<T> Stepper => stepper;

    // Loop state of the current solve.
    private double t, tEnd, direction, h, previousRatio, initialStep, lastAccepted;
    private bool haveF0, lastNonFinite, landedOnJump, stopIsJump;
    // The reason the stepper gave for rejecting the last attempt itself, reported if h cannot shrink further.
    private SolveFailure stepperFailure;
    private StartDerivativeSource f0Source;
    private int attempted, accepted, rejected, nextStepTo, nextJump, nextLanding;
    private long loopEvaluations;

    // The fixed-step grid of the current interval between landing times (see FixedGrid).
    private double gridOrigin, gridCount;
    private long gridIndex;
    private bool gridFresh;

    // Saved times the loop lands on: every one with a fixed step (unless stepping past the end), or when the stepper has no interpolation.
    private double[] landings = [];

    /// <summary>The current time (the end of the last accepted step).</summary>
    public double Time => t;

    /// <summary>The current state (the solution part first).</summary>
    public ReadOnlySpan<T> State => y;

    /// <summary>The state at the end of the accepted step, before <see cref="Commit"/>.</summary>
    public ReadOnlySpan<T> StepEndState => yNew;

    /// <summary>
    /// f(t0, y0) of the last <see cref="Start"/> (kept while the solve runs), or empty when the loop did not evaluate it
    /// (a stepper that takes no start derivative, with no initial-step probe).
    /// </summary>
    public ReadOnlySpan<T> InitialDerivative => haveInitialDerivative ? f0 : default;

    private bool haveInitialDerivative;

    /// <summary>The accepted step of the last successful <see cref="Advance"/>.</summary>
    public AcceptedStep LastStep { get; private set; }

    /// <summary>The statistics so far.</summary>
    public SolveStats Stats => new(stepper.FunctionEvaluations + loopEvaluations, accepted, rejected, lastAccepted, initialStep)
    {
        JacobianEvaluations = stepperStatistics?.JacobianEvaluations ?? 0,
        Factorizations = stepperStatistics?.Factorizations ?? 0,
        NewtonIterations = stepperStatistics?.NewtonIterations ?? 0,
        MethodSwitches = stepperStatistics?.MethodSwitches ?? 0,
        StiffnessDetectedAt = stiffFrom,
    };

    // Hairer's stiffness counters (DOPRI5): 15 stability-limited accepted steps with no run of 6 others between them.
    // As in DOPRI5 the test runs every StiffnessCheckInterval accepted steps until one is stability-limited, then on
    // every step: its cost stays out of small, overhead-bound solves.
    private const int StiffnessCheckInterval = 50;
    private int stiffRun, nonStiffRun;
    private double? stiffFrom;
    // Accepted steps until the next test (int.MaxValue: never, as without an estimate or once stiffness was found).
    private int stiffnessCountdown;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void NoteStiffness(double time)
    {
        stiffnessCountdown = StiffnessCheckInterval;
        double ratio = stiffnessEstimate!.StiffnessRatio;
        if (double.IsNaN(ratio)) return;
        if (ratio > 0.98)
        {
            nonStiffRun = 0;
            if (++stiffRun == 15)
            {
                stiffFrom = time;
                stiffnessCountdown = int.MaxValue;
                return;
            }
        }
        else if (++nonStiffRun == 6)
        {
            stiffRun = 0;
        }
        if (stiffRun > 0) stiffnessCountdown = 1;
    }

    /// <summary>Why h could shrink no further: a non-finite state, the stepper's own reason, or the error test.</summary>
    private SolveFailure Underflow() =>
        lastNonFinite ? SolveFailure.NonFiniteState : stepperFailure != SolveFailure.None ? stepperFailure : SolveFailure.StepSizeUnderflow;

    /// <summary>The number of attempted steps so far.</summary>
    public int AttemptedSteps => attempted;

    /// <summary>The step size the next attempt will start from.</summary>
    public double NextStepSize => h;

    /// <summary>
    /// When positive and finite, the magnitude of the first step of the next <see cref="Start"/> of an adaptive solve,
    /// instead of the controller's setting or the initial-step probe (a solve resumed after a state jump, e.g. the
    /// adjoint's reset at an observation time, keeps its step size and saves the probe's evaluation).
    /// </summary>
    public double InitialStepOverride { get; set; } = double.NaN;

    /// <summary>
    /// Resets the loop to (t0, y0) (y0 the solution; the stepper derives its full state from it): evaluates f(t0, y0) when the stepper or
    /// the initial-step probe uses it, and selects the first step. Returns a failure if f(t0, y0) is not finite.
    /// </summary>
    public SolveFailure Start(double t0, double t1, ReadOnlySpan<T> y0)
    {
        t = t0;
        tEnd = t1;
        direction = Math.Sign(t1 - t0);
        attempted = accepted = rejected = 0;
        loopEvaluations = 0;
        initialStep = lastAccepted = 0;
        previousRatio = 1;
        lastNonFinite = false;
        stepperFailure = SolveFailure.None;
        landedOnJump = false;
        stepper.FunctionEvaluations = 0;
        stiffRun = nonStiffRun = 0;
        stiffFrom = null;
        stiffnessCountdown = stiffnessEstimate is null ? int.MaxValue : StiffnessCheckInterval;
        if (stepperStatistics is not null)
        {
            stepperStatistics.JacobianEvaluations = 0;
            stepperStatistics.Factorizations = 0;
            stepperStatistics.NewtonIterations = 0;
            stepperStatistics.MethodSwitches = 0;
        }
        h = 0;
        haveF0 = false;
        haveInitialDerivative = false;
        stepper.InitializeState(f, t0, y0, y);
        // A state the stepper derived from y0 (with f, say) is checked once here, as each step's end is.
        if (stateLength != n && !FiniteState.All(y)) return SolveFailure.NonFiniteState;

        bool probe = pi is not null && !(InitialStepOverride > 0 && double.IsFinite(InitialStepOverride)) && pi.InitialStep is null;
        if (stepper.TakesStartDerivative || probe)
        {
            // f(t0, y0): reused as the first stage of the first step and by the initial-step probe.
            f.Evaluate(t, y.AsSpan(0, n), fCur);
            loopEvaluations++;
            fCur.CopyTo(f0);
            haveInitialDerivative = true;
            haveF0 = stepper.TakesStartDerivative;
            f0Source = StartDerivativeSource.SolveStart;
            if (!FiniteState.All(fCur)) return SolveFailure.NonFiniteState;
        }

        events.Reset(t, y.AsSpan(0, n));

        if (pi is null)
        {
            h = direction * fixedStep;
        }
        else if (InitialStepOverride > 0 && double.IsFinite(InitialStepOverride))
        {
            h = direction * InitialStepOverride;
        }
        else if (pi.InitialStep is double given)
        {
            h = direction * given;
        }
        else
        {
            h = direction * InitialStepSize.Estimate<T>(f, t, direction, y.AsSpan(0, n), fCur, stepper.ControllerOrder, norm, atol, rtol, yNew.AsSpan(0, n), fEnd, err);
            loopEvaluations++;
        }
        if (pi is not null) h = direction * Math.Clamp(Math.Abs(h), pi.DtMin, pi.DtMax);
        initialStep = h;
        nextStepTo = NextIndex(stepTo, t, direction);
        nextJump = NextIndex(jumps, t, direction);
        nextLanding = NextIndex(landings, t, direction);
        gridOrigin = t;
        gridIndex = 0;
        gridFresh = true;
        return double.IsFinite(h) ? SolveFailure.None : SolveFailure.NonFiniteStepSize;
    }

    /// <summary>
    /// Attempts steps until one is accepted. On success the step from (<see cref="Time"/>, y) to (tNew, yNew) is
    /// available for interpolation until <see cref="Commit"/>; on failure the reason is returned with the time and step.
    /// </summary>
    public SolveFailure Advance(out double tNew, out double failureStep)
    {
        while (true)
        {
            failureStep = h;
            tNew = t;
            if (attempted >= maxSteps) return SolveFailure.MaxStepsReached;

            // Land on the nearest of: the end (unless stepping past it), the next step-to time, the next jump time,
            // the next saved time the loop lands on.
            double hTry = h;
            double stop = double.NaN;
            stopIsJump = false;
            if (!stepPastEnd) stop = tEnd;
            if (nextLanding < landings.Length && (double.IsNaN(stop) || direction * (landings[nextLanding] - stop) < 0)) stop = landings[nextLanding];
            if (nextStepTo < stepTo.Length && (double.IsNaN(stop) || direction * (stepTo[nextStepTo] - stop) < 0)) stop = stepTo[nextStepTo];
            if (nextJump < jumps.Length && (double.IsNaN(stop) || direction * (jumps[nextJump] - stop) <= 0))
            {
                stop = jumps[nextJump];
                stopIsJump = true;
            }
            bool landing = false;
            double gridEnd = double.NaN;
            if (replayEnds is not null)
            {
                // Replaying a recorded step sequence: each step ends where the recorded one did.
                stop = accepted < replayEnds.Length ? replayEnds[accepted] : tEnd;
                stopIsJump = false;
                hTry = stop - t;
                landing = true;
            }
            else if (pi is null)
            {
                // Fixed steps: boundary j of the grid from the last landing time, computed from j (FixedGrid).
                if (gridFresh)
                {
                    gridCount = double.IsNaN(stop) ? double.PositiveInfinity : FixedGrid.StepCount(gridOrigin, stop, fixedStep);
                    gridFresh = false;
                }
                long j = gridIndex + 1;
                landing = j >= gridCount;
                gridEnd = double.IsNaN(stop) ? FixedGrid.OpenTime(gridOrigin, fixedStep, direction, j) : FixedGrid.Time(gridOrigin, stop, fixedStep, direction, j, gridCount);
                hTry = gridEnd - t;
            }
            else if (!double.IsNaN(stop) && direction * (t + hTry - stop) >= -LandingSlack * Math.Abs(hTry))
            {
                hTry = stop - t;
                landing = true;
            }
            failureStep = hTry;
            if (!double.IsFinite(hTry)) return SolveFailure.NonFiniteStepSize;
            if (t + hTry == t) return Underflow();

            // A step that lands on a jump evaluates its c = 1 stages just before the jump, on the left side of it.
            bool beforeJump = stopIsJump && landing;
            Listener?.AttemptStarting();
            double plannedEnd = landing ? stop : pi is null ? gridEnd : t + hTry;
            StepOutcome outcome = stepper.Step(f, new StepInput(t, hTry, beforeJump, plannedEnd), y, haveF0 ? fCur : default, yNew, pi is null ? default : err);
            attempted++;
            stepperFailure = outcome.Rejection == StepRejection.None ? SolveFailure.None
                : outcome.Rejection == StepRejection.SingularMatrix ? SolveFailure.SingularMatrix : SolveFailure.NewtonDidNotConverge;
            StartDerivativeSource source = outcome.StartDerivativeSupplied ? f0Source : StartDerivativeSource.EvaluatedInStep;
            if (!haveF0 && stepper.TakesStartDerivative)
            {
                // Reused by a retry if this attempt is rejected (after an acceptance the commit decides afresh).
                stepper.StartDerivative.CopyTo(fCur);
                haveF0 = true;
                f0Source = StartDerivativeSource.RejectedAttempt;
            }

            bool accept;
            double hNext = h;
            ReadOnlySpan<T> solution = yNew.AsSpan(0, n);
            if (pi is null)
            {
                // A fixed step cannot shrink: a step the stepper refused ends the solve with its reason.
                if (stepperFailure != SolveFailure.None) return stepperFailure;
                accept = true;
                if (!FiniteState.All(yNew)) return SolveFailure.NonFiniteState;
            }
            else
            {
                double ratio = norm.Compute<T>(err, y.AsSpan(0, n), solution, atol, rtol);
                if (double.IsNaN(ratio)) ratio = double.PositiveInfinity;
                lastNonFinite = double.IsInfinity(ratio) && !FiniteState.All(yNew);
                accept = ratio <= 1;
                if (!accept && Math.Abs(hTry) <= pi.DtMin)
                    return Underflow();
                hNext = hTry * pi.Factor(ratio, previousRatio, stepper.ControllerOrder, accept);
                hNext = direction * Math.Clamp(Math.Abs(hNext), pi.DtMin, pi.DtMax);
                if (accept) previousRatio = ratio;
            }

            if (!accept)
            {
                Listener?.AttemptRejected(outcome);
                rejected++;
                h = hNext;
                continue;
            }

            accepted++;
            lastAccepted = hTry;
            tNew = plannedEnd;
            if (--stiffnessCountdown <= 0) NoteStiffness(tNew);
            if (pi is null)
            {
                gridIndex++;
                if (landing)
                {
                    gridOrigin = stop;
                    gridIndex = 0;
                    gridFresh = true;
                }
            }
            stepStart = t;
            stepSize = hTry;
            stepEnd = tNew;
            stepEndDerivative = outcome.EndDerivativeAvailable;
            fEndValid = stepEndDerivative;
            landedOnJump = landing && stopIsJump;
            h = pi is null ? direction * fixedStep : hNext;
            LastStep = new AcceptedStep(stepStart, stepSize, stepEnd, beforeJump);
            Listener?.StepAccepted(accepted - 1, LastStep, source, y);
            return SolveFailure.None;
        }
    }

    /// <summary>Moves to the end of the accepted step (or, after an event, to <paramref name="cutTime"/> with <paramref name="restart"/>).</summary>
    public void Commit(double cutTime, bool restart)
    {
        if (restart)
        {
            // y already holds the state at the cut; f is re-evaluated there (never reused across a jump).
            t = cutTime;
            haveF0 = false;
            events.Reset(t, y.AsSpan(0, n));
            gridOrigin = t;
            gridIndex = 0;
            gridFresh = true;
        }
        else
        {
            yNew.CopyTo(y);
            t = stepEnd;
            if (stepEndDerivative)
            {
                stepper.EndDerivative.CopyTo(fCur);
                f0Source = StartDerivativeSource.PreviousStepEnd;
            }
            else if (fEndValid)
            {
                fEnd.CopyTo(fCur);
                f0Source = StartDerivativeSource.PreviousEndEvaluation;
            }
            haveF0 = stepper.TakesStartDerivative && fEndValid && !landedOnJump;
        }
        nextStepTo = NextIndex(stepTo, t, direction);
        nextJump = NextIndex(jumps, t, direction);
        nextLanding = NextIndex(landings, t, direction);
    }

    /// <summary>Whether <see cref="Run"/> lands on every saved time: with a fixed step (unless stepping past the end or replaying), or when the stepper cannot interpolate.</summary>
    public bool LandsOnSavedTimes => (pi is null && !stepPastEnd && replayEnds is null) || LandOnSavedTimes;

    private double[]? replayEnds;

    /// <summary>
    /// When set, every step ends at the next of these times (a recorded solve's accepted step ends) and is accepted
    /// without error control; outputs are served as the recorded solve served them (interpolated inside steps).
    /// </summary>
    public double[]? ReplayStepEnds
    {
        get => replayEnds;
        set => replayEnds = value;
    }

    /// <summary>Makes <see cref="Run"/> land on every saved time whatever the controller (a stepper whose outputs cannot be interpolated).</summary>
    public bool LandOnSavedTimes { get; set; }

    /// <summary>
    /// Integrates from times[0] through times[^1], writing the states at times[firstSaved..] into
    /// <paramref name="output"/> (row-major, one solution per saved time).
    /// </summary>
    public RunResult Run(double[] times, int firstSaved, ReadOnlySpan<T> y0, Span<T> output, List<StepRecord>? steps, List<EventOccurrence<T>>? eventLog, DenseInterpolant<T>? dense = null)
    {
        int outIndex = 0;
        landings = LandsOnSavedTimes ? times : [];
        SolveFailure failure = Start(times[0], times[^1], y0);
        if (failure != SolveFailure.None) return new RunResult(Stats, 0, failure, t, h, 0, false);
        if (firstSaved == 0) y.AsSpan(0, n).CopyTo(output[..n]);
        outIndex = 1;
        bool terminated = false;

        while (outIndex < times.Length)
        {
            failure = Advance(out double tNew, out double failureStep);
            if (failure != SolveFailure.None)
                return new RunResult(Stats, Math.Max(0, outIndex - firstSaved), failure, t, failureStep, attempted, false);
            steps?.Add(new StepRecord(t, stepSize, tNew));
            int index = accepted - 1;

            // Events: the earliest crossing that is terminal or jumps cuts the step there.
            double tCut = tNew;
            int cutEvent = events.Count > 0 ? events.Locate(t, tNew, yNew.AsSpan(0, n), direction, eventLog, out tCut) : -1;

            if (dense is not null)
            {
                if (stepper is ExplicitRungeKutta<T> { HasInterpolation: true } rk) dense.AddStages(t, stepSize, tCut, y, rk.Stages);
                else dense.AddHermite(t, stepSize, tCut, y.AsSpan(0, n), stepper.StartDerivative, yNew.AsSpan(0, n), EndDerivative());
            }

            // Outputs inside (t, tCut].
            while (outIndex < times.Length && direction * (times[outIndex] - tCut) <= 0)
            {
                if (outIndex >= firstSaved)
                {
                    Span<T> slot = output.Slice((outIndex - firstSaved) * n, n);
                    bool atEnd = times[outIndex] == tNew && cutEvent < 0;
                    if (atEnd) yNew.AsSpan(0, n).CopyTo(slot);
                    else Interpolate(times[outIndex], slot);
                    Listener?.OutputServed(index, outIndex, times[outIndex], atEnd);
                }
                outIndex++;
            }

            if (cutEvent < 0)
            {
                Commit(tNew, restart: false);
                continue;
            }
            Interpolate(tCut, y);
            OdeEvent<T> ev = events[cutEvent];
            if (ev.IsTerminal)
            {
                t = tCut;
                terminated = true;
                break;
            }
            ev.Jump!(tCut, y);
            Commit(tCut, restart: true);
        }

        return new RunResult(Stats, Math.Max(0, outIndex - firstSaved), SolveFailure.None, t, lastAccepted, attempted, terminated);
    }

    /// <summary>The solution at <paramref name="time"/> inside the last accepted step (before <see cref="Commit"/>).</summary>
    public void InterpolateInStep(double time, Span<T> destination) => Interpolate(time, destination);

    /// <summary>The solution at <paramref name="time"/> inside the last accepted step (from <see cref="y"/> to <see cref="yNew"/>).</summary>
    private void Interpolate(double time, Span<T> destination)
    {
        double theta = (time - stepStart) / stepSize;
        if (stepper.HasInterpolation)
        {
            stepper.Interpolate(y, stepSize, theta, destination);
            return;
        }
        StepInterpolation.Hermite<T>(y.AsSpan(0, n), stepper.StartDerivative, yNew.AsSpan(0, n), EndDerivative(), stepSize, theta, destination);
    }

    private ReadOnlySpan<T> EndDerivative()
    {
        if (stepEndDerivative) return stepper.EndDerivative;
        if (!fEndValid)
        {
            f.Evaluate(stepEnd, yNew.AsSpan(0, n), fEnd);
            loopEvaluations++;
            fEndValid = true;
            Listener?.EndDerivativeEvaluated(accepted - 1, LastStep, yNew);
        }
        return fEnd;
    }

    private static int NextIndex(double[] sorted, double t, double direction)
    {
        // Times are validated to be monotone in the direction of the solve; skip those at or behind t.
        int i = 0;
        while (i < sorted.Length && direction * (sorted[i] - t) <= 0) i++;
        return i;
    }
}
