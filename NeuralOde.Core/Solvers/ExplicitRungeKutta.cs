using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>The one stepping engine for every explicit <see cref="ButcherTableau"/>: takes a single step and keeps its stages.</summary>
/// <typeparam name="T">The state's element type, <see cref="float"/> or <see cref="double"/>.</typeparam>
/// <remarks>
/// <para>
/// A step from (t, y0) with a signed step h computes, for i = 0 … s−1, the stage state Y_i = y0 + h·Σ_{j&lt;i} A_ij·k_j,
/// the stage time t_i = t + c_i·h and the stage derivative k_i = f(t_i, Y_i); then y1 = y0 + h·Σ b_i·k_i and the error
/// estimate h·Σ (b_i − b̂_i)·k_i. After a step returns, <see cref="Stage"/>, <see cref="StageState"/> and
/// <see cref="StageTime"/> expose every k_i, Y_i and t_i of that step, so a caller can differentiate the step (walk the
/// tableau backwards: the cotangent of k_i is h·(b_i·ȳ1 + Σ_{m&gt;i} A_mi·Ȳ_m), and Ȳ_i = (∂f/∂y)ᵀ k̄_i) without
/// re-deriving the method. The engine never decides acceptance; the step-size controller does.
/// </para>
/// <para>Buffers are allocated once, in the constructor: a step allocates nothing. An instance is not thread-safe.</para>
/// </remarks>
public sealed class ExplicitRungeKutta<T> : IStepper<T>, IStiffnessEstimate
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] stages;
    private readonly T[] stageStates;
    private readonly double[] stageTimes;
    private readonly T[] coefficients;
    private readonly double[] denseWeights;

    /// <summary>Creates the engine and its buffers for states of <paramref name="dimension"/> elements.</summary>
    /// <param name="tableau">The method.</param>
    /// <param name="dimension">The state length (B·D for a batch).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is less than 1.</exception>
    public ExplicitRungeKutta(ButcherTableau tableau, int dimension)
    {
        ArgumentNullException.ThrowIfNull(tableau);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Tableau = tableau;
        Dimension = dimension;
        int s = tableau.Stages;
        stages = new T[s * dimension];
        stageStates = new T[s * dimension];
        stageTimes = new double[s];
        coefficients = new T[s];
        denseWeights = new double[s];
        canEstimateStiffness = tableau.IsFsal && s >= 3 && tableau.C[s - 2] == 1;
        // Computed here, once, so that no step allocates it later.
        stabilityBoundary = canEstimateStiffness ? tableau.RealStabilityBoundary : double.NaN;
    }

    /// <summary>The method.</summary>
    public ButcherTableau Tableau { get; }

    /// <inheritdoc/>
    /// <remarks>
    /// Hairer's test (Hairer, Nørsett and Wanner, Solving ODEs I, §IV.2 and their code DOPRI5): for a first-same-as-last
    /// tableau whose last two stages both sit at t + h, ρ = ‖f(t + h, y1) − f(t + h, Y_{s−1})‖ / ‖y1 − Y_{s−1}‖ estimates
    /// the dominant eigenvalue. Other tableaus give NaN.
    /// </remarks>
    public double StiffnessRatio
    {
        get
        {
            ButcherTableau tableau = Tableau;
            int s = tableau.Stages;
            if (!canEstimateStiffness || double.IsNaN(lastStepSize)) return double.NaN;
            ReadOnlySpan<T> fEnd = Stage(s - 1), fPrevious = Stage(s - 2), yEnd = StageState(s - 1), yPrevious = StageState(s - 2);
            double numerator = 0, denominator = 0;
            for (int i = 0; i < fEnd.Length; i++)
            {
                double df = double.CreateTruncating(fEnd[i] - fPrevious[i]), dy = double.CreateTruncating(yEnd[i] - yPrevious[i]);
                numerator += df * df;
                denominator += dy * dy;
            }
            return denominator > 0 ? Math.Abs(lastStepSize) * Math.Sqrt(numerator / denominator) / stabilityBoundary : double.NaN;
        }
    }

    private readonly bool canEstimateStiffness;
    private readonly double stabilityBoundary;
    private double lastStepSize = double.NaN;

    /// <summary>The state length.</summary>
    public int Dimension { get; }

    /// <summary>The number of calls of <see cref="IDynamics{T}.Evaluate"/> made by this engine since it was created or the counter was set.</summary>
    public long FunctionEvaluations { get; set; }

    /// <inheritdoc/>
    int IStepper<T>.OutputDimension => Dimension;

    /// <inheritdoc/>
    public int ControllerOrder => Tableau.ControllerOrder;

    /// <inheritdoc/>
    public bool HasErrorEstimate => Tableau.HasErrorEstimate;

    /// <inheritdoc/>
    /// <remarks>Always: stage 0 is f(t, y0).</remarks>
    public bool TakesStartDerivative => true;

    /// <inheritdoc/>
    /// <remarks>For an FSAL tableau, whose last stage is f(t1, y1).</remarks>
    public bool ProvidesEndDerivative => Tableau.IsFsal;

    /// <inheritdoc/>
    public bool HasInterpolation => Tableau.HasDenseOutput;

    /// <inheritdoc/>
    public ReadOnlySpan<T> StartDerivative => Stage(0);

    /// <inheritdoc/>
    public ReadOnlySpan<T> EndDerivative => Tableau.IsFsal ? Stage(Tableau.Stages - 1) : default;

    /// <summary>
    /// When true, stage times are computed as torchdiffeq 0.2.5 does: t + c_i·h in the state's precision, and a stage
    /// with c_i = 1 is evaluated one unit in the last place (of <typeparamref name="T"/>) before t + h, towards t.
    /// </summary>
    public bool TorchdiffeqStageTimes { get; set; }

    /// <summary>Every stage derivative of the last step, k_i at i·<see cref="Dimension"/>.</summary>
    internal ReadOnlySpan<T> Stages => stages;

    /// <summary>Stage derivative k_i of the last step.</summary>
    /// <param name="index">The stage index i.</param>
    /// <returns>A view of the engine's buffer, valid until the next step.</returns>
    public Span<T> Stage(int index) => stages.AsSpan(index * Dimension, Dimension);

    /// <summary>Stage state Y_i (the argument k_i was evaluated at) of the last step.</summary>
    /// <param name="index">The stage index i.</param>
    /// <returns>A view of the engine's buffer, valid until the next step.</returns>
    public ReadOnlySpan<T> StageState(int index) => stageStates.AsSpan(index * Dimension, Dimension);

    /// <summary>Stage time t_i of the last step.</summary>
    /// <param name="index">The stage index i.</param>
    /// <returns>The time f was called with for stage i.</returns>
    public double StageTime(int index) => stageTimes[index];

    /// <summary>Takes one step from (t, y0) with the signed step h.</summary>
    /// <param name="f">The dynamics.</param>
    /// <param name="t">The start time.</param>
    /// <param name="h">The signed step size (negative to integrate backwards in time).</param>
    /// <param name="y0">The start state.</param>
    /// <param name="f0">f(t, y0) if the caller has it (first stage reused, one evaluation saved), or an empty span.</param>
    /// <param name="y1">Receives the propagated solution at t + h.</param>
    /// <param name="yError">Receives the error estimate h·Σ(b − b̂)·k, or is left untouched when empty or the method has no estimate.</param>
    /// <exception cref="ArgumentException">A span's length differs from <see cref="Dimension"/>.</exception>
    public void Step(IDynamics<T> f, double t, double h, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0, Span<T> y1, Span<T> yError) =>
        Step(f, new StepInput(t, h, false, t + h), y0, f0, y1, yError);

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A span's length differs from <see cref="Dimension"/>.</exception>
    public StepOutcome Step(IDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0, Span<T> y1, Span<T> yError)
    {
        double t = input.Time, h = input.StepSize;
        bool endStageBeforeStepEnd = input.EndStageBeforeStepEnd;
        long evaluationsBefore = FunctionEvaluations;
        int n = Dimension;
        if (y0.Length != n) throw new ArgumentException($"y0 has {y0.Length} elements, expected {n}.", nameof(y0));
        if (y1.Length != n) throw new ArgumentException($"y1 has {y1.Length} elements, expected {n}.", nameof(y1));
        if (f0.Length != 0 && f0.Length != n) throw new ArgumentException($"f0 has {f0.Length} elements, expected 0 or {n}.", nameof(f0));
        ButcherTableau tableau = Tableau;
        int s = tableau.Stages;
        ReadOnlySpan<double> c = tableau.C;

        y0.CopyTo(stageStates.AsSpan(0, n));
        stageTimes[0] = t;
        if (f0.Length == n)
        {
            if (!f0.Overlaps(Stage(0))) f0.CopyTo(Stage(0));
        }
        else
        {
            Evaluate(f, 0, t);
        }

        for (int i = 1; i < s; i++)
        {
            ReadOnlySpan<double> row = tableau.ARow(i);
            for (int j = 0; j < i; j++) coefficients[j] = T.CreateTruncating(h * row[j]);
            Span<T> state = stageStates.AsSpan(i * n, n);
            Combine(y0, i, state);
            Evaluate(f, i, StageTimeFor(t, h, c[i], TorchdiffeqStageTimes, endStageBeforeStepEnd));
        }

        if (tableau.IsFsal)
        {
            StageState(s - 1).CopyTo(y1);
        }
        else
        {
            ReadOnlySpan<double> b = tableau.B;
            for (int j = 0; j < s; j++) coefficients[j] = T.CreateTruncating(h * b[j]);
            Combine(y0, s, y1);
        }

        if (tableau.HasErrorEstimate && yError.Length != 0)
        {
            if (yError.Length != n) throw new ArgumentException($"yError has {yError.Length} elements, expected {n}.", nameof(yError));
            ReadOnlySpan<double> e = tableau.BError;
            for (int j = 0; j < s; j++) coefficients[j] = T.CreateTruncating(h * e[j]);
            yError.Clear();
            Combine(yError, s, yError);
        }
        lastStepSize = h;
        return new StepOutcome((int)(FunctionEvaluations - evaluationsBefore), f0.Length == n, tableau.IsFsal);
    }

    /// <inheritdoc/>
    public void Interpolate(ReadOnlySpan<T> y0, double h, double theta, Span<T> destination) =>
        InterpolateWithTableau(y0, h, theta, denseWeights, destination);

    /// <summary>Writes the dense output y(t + θh) = y0 + h·Σ b_i(θ)·k_i of the last step (the method's own continuous extension).</summary>
    /// <param name="y0">The start state of the last step.</param>
    /// <param name="h">The step size of the last step.</param>
    /// <param name="theta">The fraction θ of the step.</param>
    /// <param name="weights">Scratch of <see cref="ButcherTableau.Stages"/> doubles.</param>
    /// <param name="destination">Receives the interpolated state.</param>
    internal void InterpolateWithTableau(ReadOnlySpan<T> y0, double h, double theta, Span<double> weights, Span<T> destination)
    {
        int s = Tableau.Stages;
        Tableau.DenseWeights(theta, weights);
        for (int j = 0; j < s; j++) coefficients[j] = T.CreateTruncating(h * weights[j]);
        Combine(y0, s, destination);
    }

    /// <summary>The time stage c_i of a step (t, h) is evaluated at, under the engine's stage-time conventions.</summary>
    internal static double StageTimeFor(double t, double h, double ci, bool torchdiffeqStageTimes, bool endStageBeforeStepEnd)
    {
        if (ci == 1 && (torchdiffeqStageTimes || endStageBeforeStepEnd))
        {
            T end = T.CreateTruncating(t + h);
            return double.CreateTruncating(h > 0 ? T.BitDecrement(end) : T.BitIncrement(end));
        }
        if (!torchdiffeqStageTimes) return ci == 1 ? t + h : t + ci * h;
        return double.CreateTruncating(T.CreateTruncating(t) + T.CreateTruncating(ci) * T.CreateTruncating(h));
    }

    private void Evaluate(IDynamics<T> f, int stage, double time)
    {
        stageTimes[stage] = time;
        f.Evaluate(time, StageState(stage), Stage(stage));
        FunctionEvaluations++;
    }

    /// <summary>destination = start + Σ_{j&lt;count} coefficients[j]·k_j, skipping zero coefficients.</summary>
    private void Combine(ReadOnlySpan<T> start, int count, Span<T> destination) =>
        StepInterpolation.Combine<T>(start, stages, coefficients, count, destination);
}
