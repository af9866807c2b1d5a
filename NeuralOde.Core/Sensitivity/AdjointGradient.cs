using System.Globalization;
using System.Numerics;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Core.Sensitivity;

/// <summary>
/// The continuous adjoint's forward and backward pass (see <see cref="Adjoint"/>): the forward keeps the states at
/// the saved times and f(t0, y0) only; the backward solves [z, a, a_θ] from the last time to t0, one interval
/// between consecutive times at a time, resetting z to the forward state and adding the output's cotangent to a at
/// each time.
/// </summary>
/// <remarks>
/// Buffers and the backward integrator are made once per (dynamics, options) pair and reused across iterations (the
/// options compared by value, so a <c>with</c> copy of equal options made per iteration reuses them too);
/// an evaluation of the augmented dynamics allocates nothing. dL/dt_i = ⟨∂L/∂y(t_i), f(t_i, y(t_i))⟩ takes f from
/// the first augmented evaluation of the interval that starts at t_i (z is the forward state there), and
/// dL/dt0 = −⟨a(t0), f(t0, y0)⟩ takes f from the forward's first evaluation: no extra evaluations of f.
/// </remarks>
internal sealed class AdjointGradient<T> : ISolveGradient<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Adjoint settings;
    private IDifferentiableDynamics<T>? f;
    private AdjointDynamics<T>? augmented;
    // The interpolating variant: the forward's continuous solution, and the [a, a_θ] field that reads z from it.
    private InterpolatedAdjointDynamics<T>? interpolated;
    private DenseOutput.DenseInterpolant<T>? forwardSolution;
    private Integrator<T>? integrator;
    private T[] scratch = [];
    private double[] times = [];
    private int firstSaved;
    private T[] states = [];
    private T[] state = [];
    private T[] next = [];
    private T[] initialDerivative = [];
    private readonly double[] interval = new double[2];
    private readonly IntegratorCache<T> forward = new();
    private readonly SolveOptionsKey forwardOptions = new();

    public AdjointGradient(Adjoint settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        this.settings = settings;
    }

    /// <summary>The options of the backward solves, for inspection (null before the first forward).</summary>
    internal SolveOptions? BackwardOptions { get; private set; }

    /// <inheritdoc/>
    public SolveStats Forward(IDifferentiableDynamics<T> f, ReadOnlySpan<T> y0, SaveAt saveAt, SolveOptions options, Span<T> output)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(saveAt);
        options ??= new SolveOptions();
        int n = f.Dimension;
        if (output.Length != saveAt.Count * n)
            throw new ArgumentException($"output has {output.Length} elements but {saveAt.Count} saved states of {n} need {saveAt.Count * n}.", nameof(output));
        if (!ReferenceEquals(f, this.f) || !forwardOptions.Matches(options)) Prepare(f, options);

        // What Ode.Solve runs (the same validation, loop and failure), on an integrator kept across iterations and
        // straight into the output, so a warm forward allocates nothing.
        Ode.Validate(f, y0, saveAt, options);
        times = saveAt.TimesArray;
        firstSaved = saveAt.FirstSavedIndex;
        // A dense output is never read here, but Ode.Solve keeps one when asked, and a cubic Hermite one evaluates each
        // step's end derivative: kept, so the forward's evaluations and steps stay Ode.Solve's.
        var dense = options.DenseOutput ? new DenseOutput.DenseInterpolant<T>(options.Method, n) : null;
        if (forwardSolution is not null)
        {
            forwardSolution.Clear();
            dense = forwardSolution;
        }
        var forwardIntegrator = forward.For(f, options);
        RunResult result = forwardIntegrator.Run(times, firstSaved, y0, output, null, null, dense);
        if (result.Failure != SolveFailure.None)
            throw OdeSolverException.FromRun(result);
        // f(t0, y0), for dL/dt0: the loop's own first evaluation.
        CopyInitialDerivative(forwardIntegrator, f, times[0], y0, initialDerivative);

        if (states.Length != times.Length * n) states = new T[times.Length * n];
        y0.CopyTo(states);
        output.CopyTo(states.AsSpan(firstSaved * n));
        return result.Stats;
    }

    /// <inheritdoc/>
    public GradientStats Backward(ReadOnlySpan<T> outputCotangent, Span<T> gradY0, Span<T> gradTheta, Span<double> gradTimes)
    {
        if (f is null || (augmented is null && interpolated is null) || integrator is null)
            throw new InvalidOperationException("Backward needs a Forward first: the adjoint starts from the forward's saved states.");
        int n = f.Dimension, p = f.Parameters.Length, m = times.Length;
        // [z, a, a_θ], or [a, a_θ] when z is read from the forward's continuous solution.
        int zRows = interpolated is null ? n : 0;
        CheckLength(outputCotangent.Length, (m - firstSaved) * n, nameof(outputCotangent));
        CheckLength(gradY0.Length, n, nameof(gradY0));
        CheckLength(gradTheta.Length, p, nameof(gradTheta));
        if (!gradTimes.IsEmpty) CheckLength(gradTimes.Length, m, nameof(gradTimes));
        for (int i = 0; i < outputCotangent.Length; i++)
        {
            if (!T.IsFinite(outputCotangent[i]))
                throw new ArgumentException($"outputCotangent[{i}] = {outputCotangent[i].ToString(null, CultureInfo.InvariantCulture)} is not finite.", nameof(outputCotangent));
        }

        Span<T> z = state.AsSpan(0, zRows), a = state.AsSpan(zRows, n);
        state.AsSpan().Clear();
        BackwardEvaluations = 0;
        long timeEvaluations = 0;
        int steps = 0;
        double carriedStep = double.NaN;
        AddCotangent(outputCotangent, m - 1, a);
        for (int k = m - 1; k >= 1; k--)
        {
            if (zRows > 0) states.AsSpan(k * n, n).CopyTo(z);
            integrator.InitialStepOverride = settings.TorchdiffeqCompatible ? double.NaN : carriedStep;
            interval[0] = times[k];
            interval[1] = times[k - 1];
            RunResult result = integrator.Run(interval, 1, state, next, null, null);
            if (result.Failure != SolveFailure.None)
            {
                throw new OdeSolverException(result.Failure, result.FailureTime, result.FailureStep, result.AttemptedSteps,
                    $"The adjoint's backward solve failed on output interval {k} of {m - 1} (integrating from t = {times[k].ToString("R", CultureInfo.InvariantCulture)} back to t = {times[k - 1].ToString("R", CultureInfo.InvariantCulture)}); the forward solve had succeeded. {result.Failure.Describe(result.FailureTime, result.FailureStep, result.AttemptedSteps)}",
                    backwardInterval: (times[k], times[k - 1]));
            }
            steps += result.Stats.AcceptedSteps;
            carriedStep = Math.Abs(integrator.NextStepSize);
            if (!gradTimes.IsEmpty)
            {
                ReadOnlySpan<T> fk;
                if (zRows > 0) fk = BackwardStartDerivative(n);
                else
                {
                    f.Evaluate(times[k], states.AsSpan(k * n, n), scratch);
                    timeEvaluations++;
                    fk = scratch;
                }
                gradTimes[k] = TimeGradient.Dot(Cotangent(outputCotangent, k, n), fk);
            }
            next.CopyTo(state, 0);
            if (k > 1) AddCotangent(outputCotangent, k - 1, a);
        }

        // a is now the integrated adjoint at t0; the direct cotangent of a saved y(t0) moves with y0, not with t0.
        if (!gradTimes.IsEmpty) gradTimes[0] = -TimeGradient.Dot(a, initialDerivative);
        AddCotangent(outputCotangent, 0, a);
        a.CopyTo(gradY0);
        ReadOnlySpan<T> adjointTheta = state.AsSpan(zRows + n, p);
        for (int i = 0; i < p; i++) gradTheta[i] += adjointTheta[i];
        long vjps = BackwardEvaluations;
        return new GradientStats(vjps + timeEvaluations, vjps, 0, steps);
    }

    /// <summary>Evaluations of the backward field (each one vector–Jacobian product, with or without f).</summary>
    private long BackwardEvaluations
    {
        get => augmented?.Evaluations ?? interpolated!.Evaluations;
        set
        {
            if (augmented is not null) augmented.Evaluations = value;
            else interpolated!.Evaluations = value;
        }
    }

    private void Prepare(IDifferentiableDynamics<T> dynamics, SolveOptions options)
    {
        int n = dynamics.Dimension;
        IDynamics<T> field;
        if (settings.Interpolating)
        {
            forwardSolution = new DenseOutput.DenseInterpolant<T>(options.Method, n);
            interpolated = new InterpolatedAdjointDynamics<T>(dynamics, forwardSolution);
            augmented = null;
            field = interpolated;
        }
        else
        {
            augmented = new AdjointDynamics<T>(dynamics);
            interpolated = null;
            forwardSolution = null;
            field = augmented;
        }
        SolveOptions backward = BuildBackwardOptions(settings, options, n, dynamics.Parameters);
        Ode.ValidateOptions(backward, field.Dimension, SaveAt.End(0, 1));
        f = dynamics;
        forwardOptions.Remember(options);
        BackwardOptions = backward;
        integrator = new Integrator<T>(field, backward, null);
        initialDerivative = new T[n];
        scratch = new T[n];
        state = new T[field.Dimension];
        next = new T[field.Dimension];
    }

    /// <summary>The backward solves' options: the adjoint's settings over the forward's, with the block norm of [z, a, a_θ] (or [a, a_θ] when interpolating).</summary>
    internal static SolveOptions BuildBackwardOptions(Adjoint settings, SolveOptions forward, int n, AutoDiff.ParameterSet<T> parameters)
    {
        bool withZ = !settings.Interpolating;
        bool fixedStep = forward.StepSize is FixedStep;
        bool compatible = settings.TorchdiffeqCompatible;
        return new SolveOptions
        {
            Method = settings.Method ?? forward.Method,
            Stepper = settings.Method is null ? forward.Stepper : null,
            StepSize = compatible && !fixedStep ? PiController.Torchdiffeq : forward.StepSize,
            RelativeTolerance = settings.RelativeTolerance ?? forward.RelativeTolerance,
            AbsoluteTolerance = settings.AbsoluteTolerance ?? forward.AbsoluteTolerance,
            RelativeTolerances = settings.RelativeTolerance is null ? AugmentedTolerances(forward.RelativeTolerances, forward.RelativeTolerance, n, parameters.Length, withZ, "RelativeTolerances") : null,
            AbsoluteTolerances = settings.AbsoluteTolerance is null ? AugmentedTolerances(forward.AbsoluteTolerances, forward.AbsoluteTolerance, n, parameters.Length, withZ, "AbsoluteTolerances") : null,
            Norm = BackwardNorm(settings, forward.Norm, n, parameters, withZ),
            MaxSteps = settings.MaxSteps ?? forward.MaxSteps,
            StepPastEnd = compatible && !fixedStep,
            TorchdiffeqStageTimes = compatible || forward.TorchdiffeqStageTimes,
            StepToTimes = [.. forward.StepToTimes.Reverse()],
            JumpTimes = [.. forward.JumpTimes.Reverse()],
        };
    }

    /// <summary>
    /// The forward's per-component tolerances carried to [z, a, a_θ]: z and a (which has z's shape) take component i's
    /// tolerance for their component i, a_θ the scalar one; null when the forward has none. An explicit scalar tolerance
    /// on <see cref="Adjoint"/> replaces them (the caller passes null then).
    /// </summary>
    private static double[]? AugmentedTolerances(IReadOnlyList<double>? perComponent, double scalar, int n, int parameterCount, bool withZ, string name)
    {
        if (perComponent is null) return null;
        if (perComponent.Count != n)
            throw new ArgumentException($"SolveOptions.{name} has {perComponent.Count} entries but the state has {n} components.", "options");
        int zRows = withZ ? n : 0;
        var tolerances = new double[zRows + n + parameterCount];
        for (int i = 0; i < n; i++)
        {
            if (withZ) tolerances[i] = perComponent[i];
            tolerances[zRows + i] = perComponent[i];
        }
        tolerances.AsSpan(zRows + n).Fill(scalar);
        return tolerances;
    }

    /// <summary>
    /// z and a each take the forward norm's blocks (one block for RMS); a_θ is one block, or one per parameter tensor
    /// when torchdiffeq-compatible; a seminorm leaves a_θ out. A max-norm forward gives a max-norm backward.
    /// </summary>
    private static ErrorNorm BackwardNorm(Adjoint settings, ErrorNorm forward, int n, AutoDiff.ParameterSet<T> parameters, bool withZ)
    {
        int zRows = withZ ? n : 0;
        if (forward.Kind == ErrorNormKind.Max)
        {
            if (settings.Seminorm) throw new ArgumentException("The adjoint's seminorm needs an RMS or block-RMS forward norm, not the max norm.", nameof(settings));
            return ErrorNorm.Max;
        }
        var blocks = new List<StateBlock>();
        foreach ((string prefix, int offset) in withZ ? new[] { ("z", 0), ("a", n) } : [("a", 0)])
        {
            if (forward.Kind == ErrorNormKind.BlockRms)
            {
                foreach (StateBlock b in forward.Blocks) blocks.Add(new StateBlock($"{prefix}.{b.Name}", offset + b.Start, b.Length));
            }
            else
            {
                blocks.Add(new StateBlock(prefix, offset, n));
            }
        }
        if (!settings.Seminorm && parameters.Length > 0)
        {
            if (settings.TorchdiffeqCompatible)
            {
                foreach (var parameter in parameters.Parameters) blocks.Add(new StateBlock($"a_theta.{parameter.Name}", zRows + n + parameter.Offset, parameter.Length));
            }
            else
            {
                blocks.Add(new StateBlock("a_theta", zRows + n, parameters.Length));
            }
        }
        return ErrorNorm.BlockRms([.. blocks]);
    }

    private void AddCotangent(ReadOnlySpan<T> outputCotangent, int timeIndex, Span<T> a)
    {
        ReadOnlySpan<T> g = Cotangent(outputCotangent, timeIndex, a.Length);
        for (int i = 0; i < g.Length; i++) a[i] += g[i];
    }

    private ReadOnlySpan<T> Cotangent(ReadOnlySpan<T> outputCotangent, int timeIndex, int n) =>
        timeIndex < firstSaved ? default : outputCotangent.Slice((timeIndex - firstSaved) * n, n);

    private static void CheckLength(int actual, int expected, string name)
    {
        if (actual != expected) throw new ArgumentException($"{name} has {actual} elements, expected {expected}.", name);
    }

    /// <summary>Copies f(t0, y0) of the integrator's last run into <paramref name="destination"/>, evaluating it when the loop did not.</summary>
    private static void CopyInitialDerivative(Integrator<T> integrator, IDynamics<T> f, double t0, ReadOnlySpan<T> y0, Span<T> destination)
    {
        ReadOnlySpan<T> f0 = integrator.InitialDerivative;
        if (f0.IsEmpty) f.Evaluate(t0, y0, destination);
        else f0[..destination.Length].CopyTo(destination);
    }

    /// <summary>dz/dt = f(t_k, z(t_k)) at the start of the last backward interval: the z rows of the loop's first augmented evaluation.</summary>
    private ReadOnlySpan<T> BackwardStartDerivative(int n)
    {
        ReadOnlySpan<T> f0 = integrator!.InitialDerivative;
        if (f0.IsEmpty) throw new InvalidOperationException("The backward solve's stepper did not evaluate f(t, z) at its start.");
        return f0[..n];
    }
}
