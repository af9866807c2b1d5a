using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Events;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Core.Solvers;

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
    private readonly T[] y;
    private readonly T[] yHat;
    private readonly T[] fHat;
    private readonly T[] scratch;
    private readonly T[] fStart;

    /// <summary>Creates the solver for <paramref name="f"/>.</summary>
    /// <param name="f">The dynamics.</param>
    public ReversibleHeun(IDynamics<T> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        Dynamics = f;
        int n = f.Dimension;
        y = new T[n];
        yHat = new T[n];
        fHat = new T[n];
        scratch = new T[n];
        fStart = new T[n];
    }

    /// <summary>The dynamics.</summary>
    public IDynamics<T> Dynamics { get; }

    /// <summary>y at the current time of the solver (after a solve: the state at its last time).</summary>
    public ReadOnlySpan<T> State => y;

    /// <summary>ŷ, the auxiliary state, at the current time of the solver.</summary>
    public ReadOnlySpan<T> AuxiliaryState => yHat;

    /// <summary>f(t, ŷ) at the current time of the solver, carried into the next step.</summary>
    public ReadOnlySpan<T> AuxiliaryDerivative => fHat;

    internal Span<T> StateBuffer => y;

    internal Span<T> AuxiliaryStateBuffer => yHat;

    internal Span<T> AuxiliaryDerivativeBuffer => fHat;

    /// <summary>f(t0, y0) of the last solve.</summary>
    internal ReadOnlySpan<T> InitialDerivative => fStart;

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
        Sensitivity.Reversible.EnsureSupported(options);
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
        int n = Dynamics.Dimension;
        long evaluationsBefore = FunctionEvaluations;
        y0.CopyTo(y);
        y0.CopyTo(yHat);
        Evaluate(schedule.Times[0], yHat, fHat, schedule.Times[0], 0, 0);
        fHat.CopyTo(fStart);
        if (firstSaved == 0) y0.CopyTo(output[..n]);
        int steps = 0;
        double lastH = 0;
        for (int k = 0; k + 1 < schedule.Times.Length; k++)
        {
            int m = schedule.StepCounts[k];
            for (int j = 0; j < m; j++)
            {
                double ta = schedule.StepTime(k, j), tb = schedule.StepTime(k, j + 1);
                StepForward(ta, tb, steps);
                steps++;
                lastH = tb - ta;
            }
            int row = k + 1 - firstSaved;
            if (row >= 0) y.CopyTo(output.Slice(row * n, n));
        }
        return new SolveStats(FunctionEvaluations - evaluationsBefore, steps, 0, lastH, schedule.FirstStep);
    }

    /// <summary>One forward step from (ta, y, ŷ, f) to tb, in place.</summary>
    internal void StepForward(double ta, double tb, int stepIndex)
    {
        T h = T.CreateTruncating(tb - ta);
        T half = h / (T.One + T.One);
        // ŷ' = 2y − ŷ + h·f
        TensorPrimitives.Add(y, y, scratch);
        TensorPrimitives.Subtract(scratch, yHat, scratch);
        TensorPrimitives.MultiplyAdd(fHat, h, scratch, yHat);
        // y' = (y + (h/2)·f) + (h/2)·f'
        TensorPrimitives.MultiplyAdd(fHat, half, y, y);
        Evaluate(tb, yHat, fHat, tb, tb - ta, stepIndex + 1);
        TensorPrimitives.MultiplyAdd(fHat, half, y, y);
        CheckFinite(y, tb, tb - ta, stepIndex + 1);
    }

    /// <summary>One reverse step from (tb, y, ŷ, f) back to ta, in place: the algebraic inverse of <see cref="StepForward"/>.</summary>
    internal void StepBackward(double ta, double tb, int stepIndex)
    {
        T h = T.CreateTruncating(tb - ta);
        T half = h / (T.One + T.One);
        // ŷ = 2y' − ŷ' − h·f'
        TensorPrimitives.Add(y, y, scratch);
        TensorPrimitives.Subtract(scratch, yHat, scratch);
        TensorPrimitives.MultiplyAdd(fHat, -h, scratch, yHat);
        // y = (y' − (h/2)·f') − (h/2)·f
        TensorPrimitives.MultiplyAdd(fHat, -half, y, y);
        Evaluate(ta, yHat, fHat, ta, tb - ta, stepIndex);
        TensorPrimitives.MultiplyAdd(fHat, -half, y, y);
        CheckFinite(y, ta, tb - ta, stepIndex);
    }

    private static void CheckFinite(ReadOnlySpan<T> values, double t, double h, int stepIndex)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i])) throw new OdeSolverException(SolveFailure.NonFiniteState, t, h, stepIndex);
        }
    }

    /// <summary>Evaluates f and counts it; a non-finite value stops the solve with its time.</summary>
    internal void Evaluate(double t, ReadOnlySpan<T> state, Span<T> destination, double failureTime, double h, int stepIndex)
    {
        Dynamics.Evaluate(t, state, destination);
        FunctionEvaluations++;
        CheckFinite(destination, failureTime, h, stepIndex);
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

/// <summary>
/// The fixed-step grid of a reversible solve: for each interval [t_k, t_{k+1}] between consecutive times, m_k steps at
/// t_k + j·h (j &lt; m_k) and t_{k+1}. Forward and reverse passes compute each step time from its index, so both see
/// bit-identical times and step sizes.
/// </summary>
internal sealed class ReversibleSchedule
{
    private ReversibleSchedule(int intervals) => StepCounts = new int[intervals];

    /// <summary>All times, t0 first (as <see cref="SaveAt.AllTimes"/>).</summary>
    public double[] Times { get; private set; } = [];

    /// <summary>Steps in each interval.</summary>
    public int[] StepCounts { get; }

    /// <summary>The unsigned step size h.</summary>
    public double StepSize { get; private set; }

    /// <summary>Steps over the whole solve.</summary>
    public int TotalSteps { get; private set; }

    /// <summary>The first step's signed size.</summary>
    public double FirstStep => StepTime(0, 1) - StepTime(0, 0);

    /// <summary>The time of step boundary j (0 … m_k) of interval k.</summary>
    public double StepTime(int k, int j) => FixedGrid.Time(Times[k], Times[k + 1], StepSize, Math.Sign(Times[k + 1] - Times[k]), j, StepCounts[k]);

    /// <summary>The grid of <paramref name="saveAt"/> with steps of <paramref name="stepSize"/>.</summary>
    /// <param name="saveAt">The times.</param>
    /// <param name="stepSize">The unsigned step size.</param>
    /// <param name="maxSteps">The most steps allowed; more throws before any step is taken.</param>
    /// <param name="reuse">A schedule of an earlier solve to overwrite when it has as many intervals (a warm solve then allocates nothing), or null.</param>
    /// <returns>The schedule: <paramref name="reuse"/> or a new one.</returns>
    public static ReversibleSchedule Create(SaveAt saveAt, double stepSize, int maxSteps, ReversibleSchedule? reuse = null)
    {
        if (!(stepSize > 0) || !double.IsFinite(stepSize))
            throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, $"The step size must be positive and finite, got {stepSize.ToString("R", CultureInfo.InvariantCulture)}.");
        double[] times = saveAt.TimesArray;
        var schedule = reuse is not null && reuse.StepCounts.Length == times.Length - 1 ? reuse : new ReversibleSchedule(times.Length - 1);
        int[] counts = schedule.StepCounts;
        long total = 0;
        for (int k = 0; k < counts.Length; k++)
        {
            double m = FixedGrid.StepCount(times[k], times[k + 1], stepSize);
            if (m > int.MaxValue || total + m > maxSteps) throw TooManySteps(times, k, stepSize, total + m, maxSteps);
            counts[k] = (int)m;
            total += counts[k];
        }
        schedule.Times = times;
        schedule.StepSize = stepSize;
        schedule.TotalSteps = (int)total;
        return schedule;
    }

    /// <summary>The step size needs more than MaxSteps steps: refused before any step is taken.</summary>
    private static OdeSolverException TooManySteps(double[] times, int k, double stepSize, double needed, int maxSteps)
    {
        string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        return new OdeSolverException(SolveFailure.MaxStepsReached, times[0], stepSize, 0,
            $"ReversibleHeun's fixed step h = {F(stepSize)} needs {needed.ToString("G4", CultureInfo.InvariantCulture)} steps from t = {F(times[0])} to t = {F(times[k + 1])}, more than MaxSteps = {maxSteps}: no step was taken. Use a larger step or raise MaxSteps.");
    }
}
