using System.Globalization;
using System.Numerics;
using NeuralOde.Core.DenseOutput;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Events;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Core;

/// <summary>The entry point that runs a solve: dynamics, initial state and times in; states and statistics out.</summary>
/// <example>
/// <code>
/// var sol = Ode.Solve(f, y0, SaveAt.Times(0.0, 0.5, 1.0), new SolveOptions { RelativeTolerance = 1e-5, AbsoluteTolerance = 1e-5 });
/// long nfe = sol.Stats.FunctionEvaluations; ReadOnlySpan&lt;double&gt; yEnd = sol.States[^1];
/// </code>
/// </example>
public static class Ode
{
    /// <summary>Solves y' = f(t, y), y(t0) = y0, and returns the states at the requested times.</summary>
    /// <typeparam name="T">The state's element type, <see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="f">The dynamics.</param>
    /// <param name="y0">The initial state (length <see cref="IDynamics{T}.Dimension"/>; a batch is one row-major B×D span with one shared step).</param>
    /// <param name="saveAt">The times; the first is t0. Descending times integrate backwards.</param>
    /// <param name="options">Method, controller, tolerances; null for the defaults.</param>
    /// <param name="events">Events to detect, or null.</param>
    /// <returns>The solution.</returns>
    /// <exception cref="ArgumentException">An argument is invalid; the exception names it and the offending value.</exception>
    /// <exception cref="OdeSolverException">The solve failed numerically (max steps, step-size underflow, non-finite state); it carries t, h and the step count.</exception>
    public static OdeSolution<T> Solve<T>(IDynamics<T> f, ReadOnlySpan<T> y0, SaveAt saveAt, SolveOptions? options = null, IReadOnlyList<OdeEvent<T>>? events = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        OdeSolution<T> solution = TrySolve(f, y0, saveAt, options, events);
        if (solution.Failure is { } failure) throw failure;
        return solution;
    }

    /// <summary>Solves y' = f(t, y), y(t0) = y0, for a right-hand side written as a lambda: no class needed.</summary>
    /// <typeparam name="T">The state's element type, <see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="f">Writes f(t, y) into dy/dt; called once per evaluation, with spans of y0's length.</param>
    /// <param name="y0">The initial state; its length is the dimension.</param>
    /// <param name="saveAt">The times; the first is t0. Descending times integrate backwards.</param>
    /// <param name="options">Method, controller, tolerances; null for the defaults.</param>
    /// <param name="events">Events to detect, or null.</param>
    /// <returns>The solution.</returns>
    /// <remarks>
    /// The same as <see cref="Solve{T}(IDynamics{T}, ReadOnlySpan{T}, SaveAt, SolveOptions?, IReadOnlyList{OdeEvent{T}}?)"/>
    /// with a <see cref="FunctionDynamics{T}"/>: a lambda that allocates nothing gives a solve that allocates nothing per step.
    /// </remarks>
    /// <example><c>var sol = Ode.Solve((t, y, dy) =&gt; dy[0] = -0.3 * (y[0] - 20), [90.0], SaveAt.Times(0, 5, 10));</c></example>
    /// <exception cref="ArgumentException">An argument is invalid; the exception names it and the offending value.</exception>
    /// <exception cref="OdeSolverException">The solve failed numerically.</exception>
    public static OdeSolution<T> Solve<T>(OdeFunction<T> f, ReadOnlySpan<T> y0, SaveAt saveAt, SolveOptions? options = null, IReadOnlyList<OdeEvent<T>>? events = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(f);
        if (y0.Length == 0) throw new ArgumentException("The initial state is empty.", nameof(y0));
        return Solve(new FunctionDynamics<T>(y0.Length, f), y0, saveAt, options, events);
    }

    /// <summary>Like <see cref="Solve{T}(IDynamics{T}, ReadOnlySpan{T}, SaveAt, SolveOptions?, IReadOnlyList{OdeEvent{T}}?)"/>, but a numerical failure is returned in <see cref="OdeSolution{T}.Failure"/> (with the states reached so far) instead of thrown.</summary>
    /// <typeparam name="T">The state's element type.</typeparam>
    /// <param name="f">The dynamics.</param>
    /// <param name="y0">The initial state.</param>
    /// <param name="saveAt">The times; the first is t0.</param>
    /// <param name="options">Method, controller, tolerances; null for the defaults.</param>
    /// <param name="events">Events to detect, or null.</param>
    /// <returns>The solution, possibly partial with <see cref="OdeSolution{T}.Failure"/> set.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (argument errors are always thrown).</exception>
    public static OdeSolution<T> TrySolve<T>(IDynamics<T> f, ReadOnlySpan<T> y0, SaveAt saveAt, SolveOptions? options = null, IReadOnlyList<OdeEvent<T>>? events = null)
        where T : unmanaged, IFloatingPointIeee754<T> => TrySolveReplaying(f, y0, saveAt, options, events, replayStepEnds: null);

    /// <summary>
    /// The solve of <see cref="TrySolve{T}(IDynamics{T}, ReadOnlySpan{T}, SaveAt, SolveOptions?, IReadOnlyList{OdeEvent{T}}?)"/>, optionally replaying recorded step ends (see <see cref="Integrator{T}.ReplayStepEnds"/>)
    /// and landing on every saved time, as Backprop and Checkpointed run a stepper of the user's (see <see cref="Integrator{T}.LandOnSavedTimes"/>).
    /// </summary>
    internal static OdeSolution<T> TrySolveReplaying<T>(IDynamics<T> f, ReadOnlySpan<T> y0, SaveAt saveAt, SolveOptions? options, IReadOnlyList<OdeEvent<T>>? events, double[]? replayStepEnds, bool landOnSavedTimes = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        options ??= new SolveOptions();
        Validate(f, y0, saveAt, options);
        var integrator = new Integrator<T>(f, options, events) { ReplayStepEnds = replayStepEnds, LandOnSavedTimes = landOnSavedTimes };
        int n = f.Dimension;
        var values = new T[saveAt.Count * n];
        List<StepRecord>? steps = options.RecordSteps ? [] : null;
        var log = new List<EventOccurrence<T>>();
        DenseInterpolant<T>? dense = options.DenseOutput ? new DenseInterpolant<T>(options.Method, n) : null;
        RunResult result = integrator.Run(saveAt.TimesArray, saveAt.FirstSavedIndex, y0, values, steps, log, dense);
        double[] times = saveAt.TimesArray[saveAt.FirstSavedIndex..][..result.SavedCount];
        OdeSolverException? failure = result.Failure == SolveFailure.None
            ? null
            : OdeSolverException.FromRun(result);
        return new OdeSolution<T>(times, values, n, result.Stats, steps, log, result.TerminatedByEvent, failure) { Dense = dense };
    }

    /// <summary>Starts a resumable solve from (t0, y0) towards t1: enumerate it to take one accepted step at a time.</summary>
    /// <typeparam name="T">The state's element type.</typeparam>
    /// <param name="f">The dynamics.</param>
    /// <param name="y0">The initial state (copied).</param>
    /// <param name="t0">The initial time.</param>
    /// <param name="t1">The end time (the last step lands on it unless <see cref="SolveOptions.StepPastEnd"/>).</param>
    /// <param name="options">Method, controller, tolerances; null for the defaults.</param>
    /// <returns>The stepper.</returns>
    /// <exception cref="ArgumentException">An argument is invalid.</exception>
    public static OdeStepper<T> Steps<T>(IDynamics<T> f, ReadOnlySpan<T> y0, double t0, double t1, SolveOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        options ??= new SolveOptions();
        SaveAt span = SaveAt.End(t0, t1);
        Validate(f, y0, span, options);
        return new OdeStepper<T>(f, y0, t0, t1, options);
    }

    /// <summary>Checks every argument once, at the boundary, naming the argument and the offending value.</summary>
    internal static void Validate<T>(IDynamics<T> f, ReadOnlySpan<T> y0, SaveAt saveAt, SolveOptions options)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(saveAt);
        ArgumentNullException.ThrowIfNull(options);
        if (y0.Length == 0) throw new ArgumentException("The initial state is empty.", nameof(y0));
        if (f.Dimension != y0.Length) throw new ArgumentException($"y0 has {y0.Length} elements but the dynamics' Dimension is {f.Dimension}.", nameof(y0));
        for (int i = 0; i < y0.Length; i++)
        {
            if (!T.IsFinite(y0[i])) throw new ArgumentException($"y0[{i}] = {y0[i].ToString(null, CultureInfo.InvariantCulture)} is not finite.", nameof(y0));
        }
        ValidateOptions(options, y0.Length, saveAt);
    }

    internal static void ValidateOptions(SolveOptions options, int dimension, SaveAt saveAt)
    {
        ArgumentNullException.ThrowIfNull(options.Method, nameof(options));
        ArgumentNullException.ThrowIfNull(options.StepSize, nameof(options));
        ArgumentNullException.ThrowIfNull(options.Norm, nameof(options));
        if (!(options.RelativeTolerance > 0) || !double.IsFinite(options.RelativeTolerance))
            throw new ArgumentOutOfRangeException(nameof(options), options.RelativeTolerance, $"RelativeTolerance (rtol) must be positive and finite, got {F(options.RelativeTolerance)}.");
        if (!(options.AbsoluteTolerance >= 0) || !double.IsFinite(options.AbsoluteTolerance))
            throw new ArgumentOutOfRangeException(nameof(options), options.AbsoluteTolerance, $"AbsoluteTolerance (atol) must be non-negative and finite, got {F(options.AbsoluteTolerance)}.");
        CheckPerComponent(options.RelativeTolerances, dimension, "RelativeTolerances", positive: true);
        CheckPerComponent(options.AbsoluteTolerances, dimension, "AbsoluteTolerances", positive: false);
        CheckAttainable(options, dimension);
        if (options.MaxSteps < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MaxSteps, $"MaxSteps must be at least 1, got {options.MaxSteps}.");
        if (options.StepSize is not (PiController or FixedStep))
            throw new ArgumentException($"StepSize must be a FixedStep or a PiController, got {options.StepSize.GetType().Name}.", nameof(options));
        if (options.StepSize is PiController pi)
        {
            pi.Validate();
            if (!options.Method.HasErrorEstimate)
                throw new ArgumentException($"{options.Method} has no error estimate, so it cannot adapt its step: use a FixedStep controller or an embedded method.", nameof(options));
        }
        options.Norm.Validate(dimension);
        double t0 = saveAt.StartTime, t1 = saveAt.EndTime;
        double direction = Math.Sign(t1 - t0);
        CheckLandingTimes(options.StepToTimes, "StepToTimes", direction);
        CheckLandingTimes(options.JumpTimes, "JumpTimes", direction);
    }

    private static void CheckPerComponent(IReadOnlyList<double>? values, int dimension, string name, bool positive)
    {
        if (values is null) return;
        if (values.Count != dimension) throw new ArgumentException($"{name} has {values.Count} entries but the state has {dimension}.", "options");
        for (int i = 0; i < values.Count; i++)
        {
            double v = values[i];
            if (!double.IsFinite(v) || (positive ? !(v > 0) : !(v >= 0)))
                throw new ArgumentOutOfRangeException("options", v, $"{name}[{i}] = {F(v)} must be {(positive ? "positive" : "non-negative")} and finite.");
        }
    }

    /// <summary>
    /// Refuses a component with atol = 0 and an rtol below double's rounding unit: it asks for a relative error that
    /// rounding alone exceeds, so no step could ever pass the error test.
    /// </summary>
    private static void CheckAttainable(SolveOptions options, int dimension)
    {
        int count = options.RelativeTolerances is null && options.AbsoluteTolerances is null ? 1 : dimension;
        for (int i = 0; i < count; i++)
        {
            double r = options.RelativeTolerances?[i] ?? options.RelativeTolerance;
            double a = options.AbsoluteTolerances?[i] ?? options.AbsoluteTolerance;
            if (a == 0 && r < MinimumRelativeTolerance)
            {
                string which = count == 1 ? "" : $" for component {i}";
                throw new ArgumentOutOfRangeException(nameof(options), r, $"RelativeTolerance (rtol) = {F(r)} with AbsoluteTolerance (atol) = 0{which} asks for a relative error below double's rounding unit {F(MinimumRelativeTolerance)}: no step can meet it. Raise rtol to at least {F(MinimumRelativeTolerance)} or give atol > 0.");
            }
        }
    }

    /// <summary>The rounding unit of double, 2^-52: the smallest rtol accepted when atol is 0.</summary>
    private const double MinimumRelativeTolerance = 2.220446049250313e-16;

    private static void CheckLandingTimes(IReadOnlyList<double> times, string name, double direction)
    {
        for (int i = 0; i < times.Count; i++)
        {
            if (!double.IsFinite(times[i])) throw new ArgumentException($"{name}[{i}] = {F(times[i])} is not finite.", "options");
            if (i > 0 && direction * (times[i] - times[i - 1]) <= 0)
                throw new ArgumentException($"{name} must be strictly monotone in the direction of the solve: [{i - 1}] = {F(times[i - 1])}, [{i}] = {F(times[i])}.", "options");
        }
    }

    private static string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
}
