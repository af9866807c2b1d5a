using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.AutoDiff;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Solvers;

namespace NeuralOde.Core.Sensitivity;

/// <summary>
/// The exact gradient of the discrete solve, step by step: the forward runs the ordinary step loop (same steps, same
/// outputs as <see cref="Ode.Solve{T}(IDynamics{T}, ReadOnlySpan{T}, SaveAt, SolveOptions?, System.Collections.Generic.IReadOnlyList{Events.OdeEvent{T}}?)"/>) and keeps, per accepted step, what a subclass chooses; the backward takes
/// each step's discrete vector–Jacobian product in reverse (<see cref="StepRecorder{T}"/>), including the dense-output
/// formulas that served interpolated output times.
/// </summary>
/// <remarks>Accepted step sizes are constants; rejected steps and the initial-step probe are not differentiated.</remarks>
internal abstract class StepwiseGradient<T> : ISolveGradient<T>, IStepListener<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>One saved output of the last forward: the step it was served from (−1: the initial state) and how.</summary>
    private readonly record struct OutputInfo(int Step, double Time, bool AtStepEnd);

    private readonly List<OutputInfo> outputs = [];
    private T[] outputValues = [];
    private T[] thetaBar = [];
    private T[] yBar = [];
    private T[] extraY0 = [];
    private T[] scratch = [];
    private double[] weights = [];
    private readonly IntegratorCache<T> integrators = new();
    private ISolveGradient<T>? delegated;
    private IDifferentiableStepper<T>? ownStepper;

    protected StepwiseGradient(Shape stateShape) => StateShape = stateShape;

    protected Shape StateShape { get; }

    protected IDifferentiableDynamics<T> Dynamics { get; private set; } = null!;

    protected SolveOptions Options { get; private set; } = null!;

    protected StepRecorder<T> Recorder { get; private set; } = null!;

    /// <summary>The number of accepted steps of the last forward (the subclass keeps what it needs of each).</summary>
    protected int StepCount { get; private set; }

    private double[] times = [];
    private int firstSaved;

    public SolveStats Forward(IDifferentiableDynamics<T> f, ReadOnlySpan<T> y0, SaveAt saveAt, SolveOptions options, Span<T> output)
    {
        delegated = DelegateFor(options);
        if (delegated is not null) return delegated.Forward(f, y0, saveAt, options, output);
        Ode.Validate(f, y0, saveAt, options);
        int n = f.Dimension;
        if (StateShape.Length != n) throw new ArgumentException($"The state's shape {StateShape} does not hold the dynamics' {n} elements.", nameof(y0));
        if (Recorder is null || !ReferenceEquals(Options.Method, options.Method) || Options.TorchdiffeqStageTimes != options.TorchdiffeqStageTimes)
            Recorder = new StepRecorder<T>(options.Method, StateShape, options.TorchdiffeqStageTimes, ChunkLength(n));
        Options = options;
        if (!ReferenceEquals(Dynamics, f))
        {
            Dynamics = f;
            thetaBar = new T[f.Parameters.Length];
            yBar = new T[n];
            extraY0 = new T[n];
            scratch = new T[n];
        }
        // Sized by the method, which may change while the dynamics stay (a 4-stage RK4 node reused for Dormand–Prince).
        if (weights.Length != options.Method.Stages) weights = new double[options.Method.Stages];
        Recorder.Bind(f);
        times = saveAt.TimesArray;
        firstSaved = saveAt.FirstSavedIndex;
        StepCount = 0;
        outputs.Clear();
        BeginForward();

        // Reused while the dynamics and options stay the same: Run starts from a full reset, so the arithmetic is a new integrator's.
        var integrator = integrators.For(IntegratorDynamics, options, this);
        ownStepper = null;
        if (options.Stepper is not null)
        {
            // A stepper of the user's: its steps are pulled back by its own VJP, and every output is a step end.
            ownStepper = integrator.Stepper as IDifferentiableStepper<T>
                ?? throw new ArgumentException($"options.Stepper ({options.Stepper.GetType().Name}) made a {integrator.Stepper.GetType().Name}, which does not implement IDifferentiableStepper<{typeof(T).Name}>: a gradient through it needs its step's vector-Jacobian product.", nameof(options));
        }
        integrator.LandOnSavedTimes = options.GradientsLandOnSavedTimes;
        if (firstSaved == 0) outputs.Add(new OutputInfo(-1, times[0], true));
        RunResult result = integrator.Run(times, firstSaved, y0, output, null, null);
        if (result.Failure != SolveFailure.None) throw OdeSolverException.FromRun(result);
        // Kept for the time gradients; the buffer is reused across iterations.
        int saved = outputs.Count * n;
        if (outputValues.Length != saved) outputValues = new T[saved];
        output[..saved].CopyTo(outputValues);
        return result.Stats;
    }

    void IStepListener<T>.AttemptStarting() => OnAttemptStarting();

    void IStepListener<T>.AttemptRejected(in StepOutcome outcome) => OnAttemptRejected(outcome);

    void IStepListener<T>.StepAccepted(int index, in AcceptedStep step, StartDerivativeSource source, ReadOnlySpan<T> startState)
    {
        StepCount++;
        OnAcceptedStep(index, step, source, startState);
    }

    void IStepListener<T>.EndDerivativeEvaluated(int index, in AcceptedStep step, ReadOnlySpan<T> endState) =>
        OnEndDerivativeEvaluated(index, step, endState);

    void IStepListener<T>.OutputServed(int index, int timeIndex, double time, bool atStepEnd) =>
        outputs.Add(new OutputInfo(index, time, atStepEnd));

    public GradientStats Backward(ReadOnlySpan<T> outputCotangent, Span<T> gradY0, Span<T> gradTheta, Span<double> gradTimes)
    {
        if (delegated is not null) return delegated.Backward(outputCotangent, gradY0, gradTheta, gradTimes);
        int n = StateShape.Length;
        if (outputCotangent.Length != outputs.Count * n)
            throw new ArgumentException($"The output cotangent has {outputCotangent.Length} elements; the solve saved {outputs.Count} states of {n}.", nameof(outputCotangent));
        for (int i = 0; i < outputCotangent.Length; i++)
        {
            if (!T.IsFinite(outputCotangent[i]))
                throw new ArgumentException($"Element {i} of the output cotangent is {outputCotangent[i]}; every element must be finite.", nameof(outputCotangent));
        }
        Array.Clear(thetaBar);
        Array.Clear(yBar);
        var sink = GradientSink<T>.Into(Dynamics.Parameters, thetaBar);
        var tableau = Options.Method;
        int s = tableau.Stages;
        int o = outputs.Count - 1;
        long evaluationsBefore = RecomputedEvaluations;
        long vjpsBefore = Recorder.VjpCount;
        long ownVjps = 0;
        for (int k = StepCount - 1; k >= 0 && ownStepper is not null; k--)
        {
            // A stepper of the user's: outputs are step ends; its VJP takes ȳ1 to ȳ0 and adds to θ̄.
            ReadOnlySpan<T> start = StepStartState(k, out var step);
            for (; o >= 0 && outputs[o].Step == k; o--) TensorPrimitives.Add(yBar, outputCotangent.Slice(o * n, n), yBar);
            Array.Clear(extraY0);
            ownVjps += ownStepper.StepVjp(Dynamics, new StepInput(step.Time, step.StepSize, step.EndStageBeforeStepEnd, step.EndTime), start, yBar, extraY0, thetaBar);
            extraY0.CopyTo(yBar);
        }
        for (int k = ownStepper is null ? StepCount - 1 : -1; k >= 0; k--)
        {
            int firstStage = PrepareStep(k, out var step);
            var kBar = Recorder.ClearedStageCotangents();
            Array.Clear(extraY0);
            for (; o >= 0 && outputs[o].Step == k; o--)
            {
                ReadOnlySpan<T> g = outputCotangent.Slice(o * n, n);
                if (outputs[o].AtStepEnd)
                {
                    TensorPrimitives.Add(yBar, g, yBar);
                    continue;
                }
                double theta = (outputs[o].Time - step.Time) / step.StepSize;
                double h = step.StepSize;
                // The transposes of the loop's own interpolation (StepInterpolation): the tableau's continuous
                // extension over the stages, or cubic Hermite through (y0, k_1) and (y1, f1).
                if (tableau.HasDenseOutput)
                {
                    tableau.DenseWeights(theta, weights);
                    StepInterpolation.TableauTranspose(g, h, weights, extraY0, kBar);
                    continue;
                }
                // f1 is the last stage of an FSAL method; otherwise f(t1, y1) was recorded for the interpolation.
                if (!tableau.IsFsal) Array.Clear(scratch);
                Span<T> f1Bar = tableau.IsFsal ? kBar.Slice((s - 1) * n, n) : scratch;
                StepInterpolation.HermiteTranspose(g, h, theta, extraY0, kBar[..n], yBar, f1Bar);
                if (!tableau.IsFsal) Recorder.AccumulateVjp(EndDerivativeRecord(k), scratch, yBar, sink);
            }
            Recorder.StepVjp(firstStage, step.StepSize, yBar, kBar, sink);
            TensorPrimitives.Add(yBar, extraY0, yBar);
        }
        // dL/dt0 uses the adjoint at t0 before a saved y(t0)'s own cotangent joins it: that output is y0 whatever t0 is.
        if (!gradTimes.IsEmpty) TimeGradients(outputCotangent, gradTimes);
        for (; o >= 0; o--) TensorPrimitives.Add(yBar, outputCotangent.Slice(o * n, n), yBar);

        yBar.CopyTo(gradY0);
        TensorPrimitives.Add(gradTheta, thetaBar, gradTheta);
        return new GradientStats(RecomputedEvaluations - evaluationsBefore + ownVjps, Recorder.VjpCount - vjpsBefore + ownVjps, RecomputedStepCount, StepCount);
    }

    /// <summary>dL/dt_i = ⟨ḡ_i, f(t_i, y_i)⟩ for each saved time after t0, and dL/dt0 = −⟨a(t0), f(t0, y0)⟩ (a without a saved y(t0)'s cotangent).</summary>
    private void TimeGradients(ReadOnlySpan<T> outputCotangent, Span<double> gradTimes)
    {
        int n = StateShape.Length;
        gradTimes.Clear();
        for (int o = 0; o < outputs.Count; o++)
        {
            if (outputs[o].Step < 0) continue;
            Dynamics.Evaluate(outputs[o].Time, outputValues.AsSpan(o * n, n), scratch);
            gradTimes[firstSaved + o] = TimeGradient.Dot(outputCotangent.Slice(o * n, n), scratch);
        }
        Dynamics.Evaluate(times[0], InitialState, scratch);
        gradTimes[0] -= TimeGradient.Dot(yBar, scratch);
    }

    /// <summary>Arena blocks of a few states' worth of activations, at least 64 Ki elements.</summary>
    internal static int ChunkLength(int n) => Math.Max(1 << 16, Math.Min(1 << 22, 64 * n));

    /// <summary>Whether interior outputs need the step's end derivative f(t1, y1) recorded (cubic Hermite, not FSAL).</summary>
    private bool NeedsEndDerivative => !Options.Method.HasDenseOutput && !Options.Method.IsFsal;

    /// <summary>The initial state of the last forward.</summary>
    protected abstract ReadOnlySpan<T> InitialState { get; }

    protected abstract long RecomputedEvaluations { get; }

    protected abstract int RecomputedStepCount { get; }

    /// <summary>What the forward's step loop evaluates (the dynamics themselves unless a subclass records them).</summary>
    protected virtual IDynamics<T> IntegratorDynamics => Dynamics;

    /// <summary>Called before each attempted step of the forward.</summary>
    protected virtual void OnAttemptStarting() { }

    /// <summary>Called when an attempted step of the forward is rejected.</summary>
    protected virtual void OnAttemptRejected(in StepOutcome outcome) { }

    /// <summary>Another gradient that runs solves with <paramref name="options"/> instead of this one (null: this one runs them).</summary>
    protected virtual ISolveGradient<T>? DelegateFor(SolveOptions options) => null;

    /// <summary>The stepper of <see cref="SolveOptions.Stepper"/> this forward ran, or null for a tableau method.</summary>
    protected IDifferentiableStepper<T>? OwnStepper => ownStepper;

    /// <summary>The start state of step <paramref name="step"/> and the step, for a stepper of the user's (a subclass that keeps start states provides it).</summary>
    protected virtual ReadOnlySpan<T> StepStartState(int step, out AcceptedStep info) =>
        throw new NotSupportedException($"{GetType().Name} does not keep step start states.");

    /// <summary>Called once before the forward's step loop.</summary>
    protected abstract void BeginForward();

    /// <summary>Called for each accepted step (steps are numbered from 0 in order) with where its f(t, y0) came from and its start state, before its outputs are served.</summary>
    protected abstract void OnAcceptedStep(int step, in AcceptedStep info, StartDerivativeSource source, ReadOnlySpan<T> startState);

    /// <summary>Called after the loop evaluated f(t1, y1) of step <paramref name="step"/> to serve an interior output with cubic Hermite interpolation.</summary>
    protected abstract void OnEndDerivativeEvaluated(int step, in AcceptedStep info, ReadOnlySpan<T> endState);

    /// <summary>Makes step k's stages available on <see cref="Recorder"/>; returns its first stage record and the step.</summary>
    protected abstract int PrepareStep(int step, out AcceptedStep info);

    /// <summary>The record of f(t1, y1) of step k (only after <see cref="OnEndDerivativeEvaluated"/> for it).</summary>
    protected abstract int EndDerivativeRecord(int step);
}
