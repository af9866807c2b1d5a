using System.Globalization;
using System.Numerics;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Events;
using NeuralOde.Core.StepSize;
using NeuralOde.Core.Solvers;

namespace NeuralOde.Core;

/// <summary>
/// The reversible Heun method (Kidger, Foster, Li, Lyons 2021, "Efficient and accurate gradients for neural SDEs",
/// the ODE case): a second-order, algebraically reversible, fixed-step solver whose state carries an extra ŷ.
/// </summary>
/// <typeparam name="T">The state's element type, <see cref="float"/> or <see cref="double"/>.</typeparam>
/// <remarks>
/// <para>
/// The state is (y_n, ŷ_n, f_n = f(t_n, ŷ_n)), with ŷ_0 = y_0. One step of signed size h = t_{n+1} − t_n is
/// ŷ_{n+1} = 2y_n − ŷ_n + h·f_n, f_{n+1} = f(t_{n+1}, ŷ_{n+1}), y_{n+1} = y_n + (h/2)(f_n + f_{n+1}):
/// one new evaluation per step, since f_{n+1} is carried into the next step. The step inverts exactly (in exact
/// arithmetic): ŷ_n = 2y_{n+1} − ŷ_{n+1} − h·f_{n+1}, f_n = f(t_n, ŷ_n), y_n = y_{n+1} − (h/2)(f_n + f_{n+1}).
/// </para>
/// <para>
/// Steps are fixed. Between consecutive saved times t_k and t_{k+1} the step times are t_k + j·h for j = 0 … m−1 and
/// then t_{k+1} itself (the last step is clipped to land on it; a remainder smaller than 1e-9·h is merged into the
/// previous step). Computing each step time from its index rather than accumulating t += h lets the reverse pass
/// recompute exactly the same times.
/// </para>
/// <para>
/// Stability: on y' = λy the step has the eigenvalues μ = hλ ± √((hλ)² + 1), with μ₁μ₂ = −1; it is stable only for hλ
/// on the imaginary segment [−i, i]. For real λ &lt; 0 the parasitic mode μ₂ ≈ −(1 + h|λ|) grows like e^{|λ|t} whatever h
/// is, seeded by the first step's truncation error, so the forward solution itself is only usable while |Re λ|·T is
/// small: with h = 0.01, y' = −y over T = 5 is accurate to 5e-7, but y' = −5y over T = 5 ends at −2.8e4 instead of
/// 1.4e-11. It suits oscillatory and mildly dissipative or expanding dynamics; the reverse reconstruction degrades
/// likewise (see <see cref="Sensitivity.Reversible"/>).
/// </para>
/// <para>
/// The instance keeps its buffers: after the first solve of a given size a solve allocates only its result. Not
/// thread-safe.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// var solver = new ReversibleHeun&lt;double&gt;(f);
/// OdeSolution&lt;double&gt; sol = solver.Solve(y0, SaveAt.Times(0.0, 0.5, 1.0), new FixedStep(0.01));
/// </code>
/// </example>
public sealed class ReversibleHeun<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ReversibleHeunStep<T> step;
    // (y, ŷ, f) at the solver's current time: the end of the last solve, or where a reverse pass has reached.
    private readonly T[] state;
    private Integrator<T>? integrator;
    private double integratorStep = double.NaN;

    /// <summary>Creates the solver for <paramref name="f"/>.</summary>
    /// <param name="f">The dynamics.</param>
    public ReversibleHeun(IDynamics<T> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        Dynamics = f;
        int n = f.Dimension;
        step = new ReversibleHeunStep<T>(n);
        state = new T[3 * n];
    }

    /// <summary>The dynamics.</summary>
    public IDynamics<T> Dynamics { get; }

    /// <summary>y at the current time of the solver (after a solve: the state at its last time).</summary>
    public ReadOnlySpan<T> State => state.AsSpan(0, Dynamics.Dimension);

    /// <summary>ŷ, the auxiliary state, at the current time of the solver.</summary>
    public ReadOnlySpan<T> AuxiliaryState => state.AsSpan(Dynamics.Dimension, Dynamics.Dimension);

    /// <summary>f(t, ŷ) at the current time of the solver, carried into the next step.</summary>
    public ReadOnlySpan<T> AuxiliaryDerivative => state.AsSpan(2 * Dynamics.Dimension);

    /// <summary>The whole state (y, ŷ, f), written by a reverse pass.</summary>
    internal Span<T> FullState => state;

    /// <summary>f(t0, y0) of the last solve.</summary>
    internal ReadOnlySpan<T> InitialDerivative => step.InitialDerivative;

    /// <summary>Evaluations of f since the solver was created.</summary>
    internal long FunctionEvaluations { get; private set; }

    /// <summary>Solves with the fixed step of <paramref name="stepSize"/>, the last step before each saved time clipped to land on it.</summary>
    /// <param name="y0">The initial state (length <see cref="IDynamics{T}.Dimension"/>).</param>
    /// <param name="saveAt">The times; the first is t0; ascending or descending.</param>
    /// <param name="stepSize">The step size.</param>
    /// <param name="maxSteps">The most steps the solve may take (checked before stepping).</param>
    /// <returns>The states at the saved times and the statistics (one evaluation per step plus one at t0).</returns>
    /// <exception cref="ArgumentException">An argument is invalid; the message names it and the value.</exception>
    /// <exception cref="OdeSolverException">The state or f became non-finite (the exception carries t), or more than <paramref name="maxSteps"/> steps are needed.</exception>
    public OdeSolution<T> Solve(ReadOnlySpan<T> y0, SaveAt saveAt, FixedStep stepSize, int maxSteps = 100_000)
    {
        ArgumentNullException.ThrowIfNull(stepSize);
        ArgumentNullException.ThrowIfNull(saveAt);
        ValidateState(y0);
        var schedule = ReversibleSchedule.Create(saveAt, stepSize.StepSize, maxSteps);
        return Run(y0, schedule, saveAt);
    }

    /// <summary>Solves with <paramref name="steps"/> equal steps over the whole span (clipped at intermediate saved times).</summary>
    /// <param name="y0">The initial state.</param>
    /// <param name="saveAt">The times; the first is t0.</param>
    /// <param name="steps">The number of steps over [t0, t_last], at least 1.</param>
    /// <returns>The states at the saved times and the statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid.</exception>
    /// <exception cref="OdeSolverException">The state became non-finite.</exception>
    public OdeSolution<T> Solve(ReadOnlySpan<T> y0, SaveAt saveAt, int steps)
    {
        ArgumentNullException.ThrowIfNull(saveAt);
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"At least one step is needed, got {steps}.");
        ValidateState(y0);
        double h = Math.Abs(saveAt.EndTime - saveAt.StartTime) / steps;
        var schedule = ReversibleSchedule.Create(saveAt, h, int.MaxValue);
        return Run(y0, schedule, saveAt);
    }

    /// <summary>Solves with the step of <paramref name="options"/>, which must be a <see cref="FixedStep"/>.</summary>
    /// <param name="y0">The initial state.</param>
    /// <param name="saveAt">The times; the first is t0.</param>
    /// <param name="options">Options; see <see cref="Sensitivity.Reversible.EnsureSupported"/> for what is accepted.</param>
    /// <returns>The states at the saved times and the statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid, or the options ask for something this solver does not do.</exception>
    /// <exception cref="OdeSolverException">The state became non-finite or more than MaxSteps steps are needed.</exception>
    public OdeSolution<T> Solve(ReadOnlySpan<T> y0, SaveAt saveAt, SolveOptions options)
    {
        ArgumentNullException.ThrowIfNull(saveAt);
        ReversibleOptionChecks.EnsureHeunSupported(options);
        ValidateState(y0);
        var schedule = ReversibleSchedule.Create(saveAt, ((FixedStep)options.StepSize).StepSize, options.MaxSteps);
        return Run(y0, schedule, saveAt);
    }

    private OdeSolution<T> Run(ReadOnlySpan<T> y0, ReversibleSchedule schedule, SaveAt saveAt)
    {
        int n = Dynamics.Dimension;
        var values = new T[saveAt.Count * n];
        SolveStats stats = Forward(y0, schedule, saveAt.FirstSavedIndex, values);
        double[] times = saveAt.TimesArray[saveAt.FirstSavedIndex..];
        return new OdeSolution<T>(times, values, n, stats, null, Array.Empty<EventOccurrence<T>>(), terminatedByEvent: false, failure: null);
    }

    /// <summary>Runs the whole forward solve, writing the state at each saved time (from <paramref name="firstSaved"/>) into consecutive rows of <paramref name="output"/>.</summary>
    internal SolveStats Forward(ReadOnlySpan<T> y0, ReversibleSchedule schedule, int firstSaved, Span<T> output)
    {
        // The one step loop on the schedule's grid (FixedGrid, the same step times), kept while the step size stays.
        if (integrator is null || integratorStep != schedule.StepSize)
        {
            var options = new SolveOptions { StepSize = new FixedStep(schedule.StepSize), MaxSteps = int.MaxValue };
            integrator = new Integrator<T>(Dynamics, options, null, step);
            integratorStep = schedule.StepSize;
        }
        RunResult result = integrator.Run(schedule.Times, firstSaved, y0, output, null, null);
        if (result.Failure != SolveFailure.None)
            throw OdeSolverException.FromRun(result);
        if (result.Stats.AcceptedSteps != schedule.TotalSteps)
            throw new InvalidOperationException($"The loop took {result.Stats.AcceptedSteps} fixed steps but the schedule has {schedule.TotalSteps}.");
        integrator.State.CopyTo(state);
        FunctionEvaluations += result.Stats.FunctionEvaluations;
        return result.Stats;
    }

    /// <summary>One reverse step from (tb, y, ŷ, f) back to ta, in place: the algebraic inverse of a forward step.</summary>
    internal void StepBackward(double ta, double tb, int stepIndex)
    {
        bool finite = step.StepBackward(Dynamics, ta, tb, state);
        FunctionEvaluations++;
        if (!finite) throw new OdeSolverException(SolveFailure.NonFiniteState, ta, tb - ta, stepIndex);
    }

    /// <summary>Evaluates f and counts it; a non-finite value stops the solve with its time.</summary>
    internal void Evaluate(double t, ReadOnlySpan<T> y, Span<T> destination, double failureTime, double h, int stepIndex)
    {
        Dynamics.Evaluate(t, y, destination);
        FunctionEvaluations++;
        for (int i = 0; i < destination.Length; i++)
        {
            if (!T.IsFinite(destination[i])) throw new OdeSolverException(SolveFailure.NonFiniteState, failureTime, h, stepIndex);
        }
    }

    internal void ValidateState(ReadOnlySpan<T> y0)
    {
        if (y0.Length == 0) throw new ArgumentException("The initial state is empty.", nameof(y0));
        if (y0.Length != Dynamics.Dimension) throw new ArgumentException($"y0 has {y0.Length} elements but the dynamics' Dimension is {Dynamics.Dimension}.", nameof(y0));
        for (int i = 0; i < y0.Length; i++)
        {
            if (!T.IsFinite(y0[i])) throw new ArgumentException($"y0[{i}] = {y0[i].ToString(null, CultureInfo.InvariantCulture)} is not finite.", nameof(y0));
        }
    }
}
