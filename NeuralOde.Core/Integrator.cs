using System.Numerics;
using MathNet.Numerics.RootFinding;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.DenseOutput;
using NeuralOde.Core.Events;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Core;

/// <summary>What one run of an <see cref="Integrator{T}"/> produced besides the saved states.</summary>
internal readonly record struct RunResult(SolveStats Stats, int SavedCount, SolveFailure Failure, double FailureTime, double FailureStep, int AttemptedSteps, bool TerminatedByEvent);

/// <summary>
/// The adaptive/fixed step loop over one <see cref="ExplicitRungeKutta{T}"/>: controller, landing times, outputs by
/// interpolation, events. Owns every buffer, so a run allocates nothing per step (event location and step recording excepted).
/// </summary>
internal sealed class Integrator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const double LandingSlack = 1e-9;
    private readonly IDynamics<T> f;
    private readonly int n;
    private readonly ButcherTableau tableau;
    private readonly ExplicitRungeKutta<T> engine;
    private readonly PiController? pi;
    private readonly double fixedStep;
    private readonly ErrorNorm norm;
    private readonly double[] atol;
    private readonly double[] rtol;
    private readonly int maxSteps;
    private readonly bool stepPastEnd;
    private readonly double[] stepTo;
    private readonly double[] jumps;
    private readonly IReadOnlyList<OdeEvent<T>> events;
    private readonly T[] y, yNew, err, fCur, fEnd;
    private readonly double[] weights;
    private readonly double[] gStart;
    private readonly T[] eventState;

    // State of the current step, for interpolation.
    private double stepStart, stepSize, stepEnd;
    private bool fEndValid;

    public Integrator(IDynamics<T> f, SolveOptions options, IReadOnlyList<OdeEvent<T>>? events)
    {
        this.f = f;
        n = f.Dimension;
        tableau = options.Method;
        engine = new ExplicitRungeKutta<T>(tableau, n) { TorchdiffeqStageTimes = options.TorchdiffeqStageTimes };
        pi = options.StepSize as PiController;
        fixedStep = options.StepSize is FixedStep fs ? fs.StepSize : 0;
        norm = options.Norm;
        atol = options.AbsoluteTolerances is { } al ? [.. al] : [options.AbsoluteTolerance];
        rtol = options.RelativeTolerances is { } rl ? [.. rl] : [options.RelativeTolerance];
        maxSteps = options.MaxSteps;
        stepPastEnd = options.StepPastEnd;
        stepTo = [.. options.StepToTimes];
        jumps = [.. options.JumpTimes];
        this.events = events ?? [];
        y = new T[n];
        yNew = new T[n];
        err = new T[n];
        fCur = new T[n];
        fEnd = new T[n];
        weights = new double[tableau.Stages];
        gStart = new double[this.events.Count];
        eventState = new T[n];
    }

    public int Dimension => n;

    /// <summary>Called before each attempted step (accepted or not), e.g. to drop what a rejected attempt recorded.</summary>
    public Action? AttemptStarting { get; set; }

    public ExplicitRungeKutta<T> Engine => engine;

    // Loop state of the current solve.
    private double t, tEnd, direction, h, previousRatio, initialStep, lastAccepted;
    private bool haveF0, lastNonFinite, landedOnJump;
    private int attempted, accepted, rejected, nextStepTo, nextJump;
    private long extraEvaluations;

    /// <summary>The current time (the end of the last accepted step).</summary>
    public double Time => t;

    /// <summary>The current state.</summary>
    public ReadOnlySpan<T> State => y;

    /// <summary>The state at the end of the accepted step, before <see cref="Commit"/>.</summary>
    public ReadOnlySpan<T> StepEndState => yNew;

    /// <summary>The statistics so far.</summary>
    public SolveStats Stats => new(engine.FunctionEvaluations + extraEvaluations, accepted, rejected, lastAccepted, initialStep);

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

    /// <summary>Resets the loop to (t0, y0): evaluates f(t0, y0) and selects the first step. Returns a failure if f(t0, y0) is not finite.</summary>
    public SolveFailure Start(double t0, double t1, ReadOnlySpan<T> y0)
    {
        t = t0;
        tEnd = t1;
        direction = Math.Sign(t1 - t0);
        attempted = accepted = rejected = 0;
        extraEvaluations = 0;
        initialStep = lastAccepted = 0;
        previousRatio = 1;
        lastNonFinite = false;
        landedOnJump = false;
        engine.FunctionEvaluations = 0;
        y0.CopyTo(y);
        h = 0;

        // f(t0, y0): reused as the first stage of the first step and of the initial-step probe.
        f.Evaluate(t, y, fCur);
        extraEvaluations++;
        haveF0 = true;
        if (!AllFinite(fCur)) return SolveFailure.NonFiniteState;

        for (int e = 0; e < events.Count; e++) gStart[e] = events[e].Function(t, y);

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
            h = direction * InitialStep(t, direction);
            extraEvaluations++;
        }
        if (pi is not null) h = direction * Math.Clamp(Math.Abs(h), pi.DtMin, pi.DtMax);
        initialStep = h;
        nextStepTo = NextIndex(stepTo, t, direction);
        nextJump = NextIndex(jumps, t, direction);
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

            // Land on the nearest of: the end (unless stepping past it), the next step-to time, the next jump time.
            double hTry = h;
            double stop = double.NaN;
            bool stopIsJump = false;
            if (!stepPastEnd) stop = tEnd;
            if (nextStepTo < stepTo.Length && (double.IsNaN(stop) || direction * (stepTo[nextStepTo] - stop) < 0)) stop = stepTo[nextStepTo];
            if (nextJump < jumps.Length && (double.IsNaN(stop) || direction * (jumps[nextJump] - stop) <= 0))
            {
                stop = jumps[nextJump];
                stopIsJump = true;
            }
            bool landing = false;
            if (!double.IsNaN(stop) && direction * (t + hTry - stop) >= -LandingSlack * Math.Abs(hTry))
            {
                hTry = stop - t;
                landing = true;
            }
            failureStep = hTry;
            if (!double.IsFinite(hTry)) return SolveFailure.NonFiniteStepSize;
            if (t + hTry == t) return lastNonFinite ? SolveFailure.NonFiniteState : SolveFailure.StepSizeUnderflow;

            // A step that lands on a jump evaluates its c = 1 stages just before the jump, on the left side of it.
            engine.EndStageBeforeStepEnd = stopIsJump && landing;
            AttemptStarting?.Invoke();
            engine.Step(f, t, hTry, y, haveF0 ? fCur : default, yNew, pi is null ? default : err);
            attempted++;
            if (!haveF0)
            {
                engine.Stage(0).CopyTo(fCur);
                haveF0 = true;
            }

            bool accept;
            double hNext = h;
            if (pi is null)
            {
                accept = true;
                if (!AllFinite(yNew)) return SolveFailure.NonFiniteState;
            }
            else
            {
                double ratio = norm.Compute<T>(err, y, yNew, atol, rtol);
                if (double.IsNaN(ratio)) ratio = double.PositiveInfinity;
                lastNonFinite = double.IsInfinity(ratio) && !AllFinite(yNew);
                accept = ratio <= 1;
                if (!accept && Math.Abs(hTry) <= pi.DtMin)
                    return lastNonFinite ? SolveFailure.NonFiniteState : SolveFailure.StepSizeUnderflow;
                hNext = hTry * pi.Factor(ratio, previousRatio, tableau.ControllerOrder, accept);
                hNext = direction * Math.Clamp(Math.Abs(hNext), pi.DtMin, pi.DtMax);
                if (accept) previousRatio = ratio;
            }

            if (!accept)
            {
                rejected++;
                h = hNext;
                continue;
            }

            accepted++;
            lastAccepted = hTry;
            tNew = landing ? stop : t + hTry;
            stepStart = t;
            stepSize = hTry;
            stepEnd = tNew;
            fEndValid = tableau.IsFsal;
            landedOnJump = landing && stopIsJump;
            h = pi is null ? direction * fixedStep : hNext;
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
            for (int e = 0; e < events.Count; e++) gStart[e] = events[e].Function(t, y);
        }
        else
        {
            yNew.CopyTo(y);
            t = stepEnd;
            if (tableau.IsFsal) engine.Stage(tableau.Stages - 1).CopyTo(fCur);
            else if (fEndValid) fEnd.CopyTo(fCur);
            haveF0 = (tableau.IsFsal || fEndValid) && !landedOnJump;
        }
        nextStepTo = NextIndex(stepTo, t, direction);
        nextJump = NextIndex(jumps, t, direction);
    }

    /// <summary>
    /// Integrates from times[0] through times[^1], writing the states at times[firstSaved..] into
    /// <paramref name="output"/> (row-major, one state per saved time).
    /// </summary>
    public RunResult Run(ReadOnlySpan<double> times, int firstSaved, ReadOnlySpan<T> y0, Span<T> output, List<StepRecord>? steps, List<EventOccurrence<T>>? eventLog, DenseInterpolant<T>? dense = null)
    {
        int outIndex = 0;
        SolveFailure failure = Start(times[0], times[^1], y0);
        if (failure != SolveFailure.None) return new RunResult(Stats, 0, failure, t, h, 0, false);
        if (firstSaved == 0) y.CopyTo(output[..n]);
        outIndex = 1;
        bool terminated = false;

        while (outIndex < times.Length)
        {
            failure = Advance(out double tNew, out double failureStep);
            if (failure != SolveFailure.None)
                return new RunResult(Stats, Math.Max(0, outIndex - firstSaved), failure, t, failureStep, attempted, false);
            steps?.Add(new StepRecord(t, stepSize, tNew));

            // Events: the earliest crossing that is terminal or jumps cuts the step there.
            double tCut = tNew;
            int cutEvent = events.Count > 0 ? LocateEvents(t, tNew, direction, eventLog, out tCut) : -1;

            if (dense is not null)
            {
                if (tableau.HasDenseOutput) dense.AddStages(t, stepSize, tCut, y, engine);
                else dense.AddHermite(t, stepSize, tCut, y, engine.Stage(0), yNew, EndDerivative());
            }

            // Outputs inside (t, tCut].
            while (outIndex < times.Length && direction * (times[outIndex] - tCut) <= 0)
            {
                if (outIndex >= firstSaved)
                {
                    Span<T> slot = output.Slice((outIndex - firstSaved) * n, n);
                    if (times[outIndex] == tNew && cutEvent < 0) yNew.CopyTo(slot);
                    else Interpolate(times[outIndex], slot);
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

    /// <summary>The state at <paramref name="time"/> inside the last accepted step (before <see cref="Commit"/>).</summary>
    public void InterpolateInStep(double time, Span<T> destination) => Interpolate(time, destination);

    /// <summary>Hairer–Nørsett–Wanner II.4 initial step, reusing f(t0, y0) (in <see cref="fCur"/>); one evaluation.</summary>
    private double InitialStep(double t0, double direction)
    {
        double d0 = norm.Compute<T>(y, y, y, atol, rtol);
        double d1 = norm.Compute<T>(fCur, y, y, atol, rtol);
        // d1 = ∞ (a component with zero scale that moves, e.g. Δ log p with atol = 0) would give h0 = 0: take the
        // small-norm branch's 1e-6 instead; the norms both overflowing (inf/inf) stays NaN and is refused by Start.
        double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
        if (h0 == 0 && double.IsPositiveInfinity(d1)) h0 = 1e-6;
        if (!double.IsFinite(h0)) return h0;
        T hT = T.CreateTruncating(direction * h0);
        for (int i = 0; i < n; i++) yNew[i] = y[i] + hT * fCur[i];
        f.Evaluate(t0 + direction * h0, yNew, fEnd);
        for (int i = 0; i < n; i++) err[i] = fEnd[i] - fCur[i];
        double d2 = norm.Compute<T>(err, y, y, atol, rtol) / h0;
        if (!double.IsFinite(d2)) return h0;
        double dMax = Math.Max(d1, d2);
        double h1 = dMax <= 1e-15 ? Math.Max(1e-6, h0 * 1e-3) : Math.Pow(0.01 / dMax, 1.0 / tableau.ControllerOrder);
        double estimate = Math.Min(100 * h0, h1);
        return estimate > 0 ? estimate : h0;
    }

    /// <summary>The state at <paramref name="time"/> inside the last accepted step (from <see cref="y"/> to <see cref="yNew"/>).</summary>
    private void Interpolate(double time, Span<T> destination)
    {
        double theta = (time - stepStart) / stepSize;
        if (tableau.HasDenseOutput)
        {
            engine.InterpolateWithTableau(y, stepSize, theta, weights, destination);
            return;
        }
        // Cubic Hermite through (y0, f0) and (y1, f1).
        ReadOnlySpan<T> f0 = engine.Stage(0);
        ReadOnlySpan<T> f1 = EndDerivative();
        double t2 = theta * theta, t3 = t2 * theta;
        T h00 = T.CreateTruncating(2 * t3 - 3 * t2 + 1);
        T h10 = T.CreateTruncating((t3 - 2 * t2 + theta) * stepSize);
        T h01 = T.CreateTruncating(-2 * t3 + 3 * t2);
        T h11 = T.CreateTruncating((t3 - t2) * stepSize);
        for (int i = 0; i < n; i++) destination[i] = h00 * y[i] + h10 * f0[i] + h01 * yNew[i] + h11 * f1[i];
    }

    private ReadOnlySpan<T> EndDerivative()
    {
        if (tableau.IsFsal) return engine.Stage(tableau.Stages - 1);
        if (!fEndValid)
        {
            f.Evaluate(stepEnd, yNew, fEnd);
            engine.FunctionEvaluations++;
            fEndValid = true;
        }
        return fEnd;
    }

    /// <summary>Finds the crossings in (t, tNew]; records them in time order up to the first that is terminal or jumps, whose index it returns (−1 if none).</summary>
    private int LocateEvents(double t, double tNew, double direction, List<EventOccurrence<T>>? log, out double tCut)
    {
        tCut = tNew;
        Span<double> roots = stackalloc double[events.Count];
        int found = 0;
        for (int e = 0; e < events.Count; e++)
        {
            OdeEvent<T> ev = events[e];
            double ga = gStart[e];
            double gb = ev.Function(tNew, yNew);
            gStart[e] = gb;
            roots[e] = double.NaN;
            double lo = t, hi = tNew, glo = ga, ghi = gb;
            if (!Crosses(ev.Direction, ga, gb))
            {
                // Also look at the middle of the step, so a crossing pair inside one long step (a ball leaving the
                // ground and landing again) is seen when the midpoint lies between them.
                double mid = t + 0.5 * (tNew - t);
                Interpolate(mid, eventState);
                double gm = ev.Function(mid, eventState);
                if (Crosses(ev.Direction, ga, gm)) (hi, ghi) = (mid, gm);
                else if (Crosses(ev.Direction, gm, gb)) (lo, glo) = (mid, gm);
                else continue;
            }
            double root = hi;
            if (ghi != 0)
            {
                EventFunction<T> g = ev.Function;
                T[] state = eventState;
                // Brent stops when |G| < accuracy or the bracket is below it; dividing g by its secant slope makes
                // both criteria a tolerance in t.
                double slope = Math.Abs(ghi - glo) / Math.Abs(hi - lo);
                double G(double time)
                {
                    Interpolate(time, state);
                    return g(time, state) / slope;
                }
                if (!Brent.TryFindRoot(G, Math.Min(lo, hi), Math.Max(lo, hi), ev.TimeTolerance, 200, out root)) root = hi;
            }
            roots[e] = root;
            found++;
        }
        if (found == 0) return -1;

        int cut = -1;
        while (found > 0)
        {
            int first = -1;
            for (int e = 0; e < events.Count; e++)
            {
                if (!double.IsNaN(roots[e]) && (first < 0 || direction * (roots[e] - roots[first]) < 0)) first = e;
            }
            double time = roots[first];
            roots[first] = double.NaN;
            found--;
            if (cut >= 0 && time != tCut) break;
            var state = new T[n];
            Interpolate(time, state);
            log?.Add(new EventOccurrence<T>(first, time, state));
            if (cut < 0 && (events[first].IsTerminal || events[first].Jump is not null))
            {
                cut = first;
                tCut = time;
            }
        }
        return cut;
    }

    private static bool Crosses(EventDirection direction, double ga, double gb)
    {
        bool rising = ga < 0 && gb >= 0;
        bool falling = ga > 0 && gb <= 0;
        return direction switch
        {
            EventDirection.Rising => rising,
            EventDirection.Falling => falling,
            _ => rising || falling,
        };
    }

    private static int NextIndex(double[] sorted, double t, double direction)
    {
        // Times are validated to be monotone in the direction of the solve; skip those at or behind t.
        int i = 0;
        while (i < sorted.Length && direction * (sorted[i] - t) <= 0) i++;
        return i;
    }

    internal static bool AllFinite(ReadOnlySpan<T> values)
    {
        foreach (T v in values)
        {
            if (!T.IsFinite(v)) return false;
        }
        return true;
    }
}
