using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.AutoDiff;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Core.Sensitivity;

/// <summary>
/// The <see cref="ReversibleRungeKutta"/> sensitivity: a forward that keeps the step times, the final (y, z) and the
/// saved states, and a backward that reconstructs each step's start from its end while applying the step's exact
/// vector–Jacobian product (see <see cref="ReversibleRungeKutta"/> for the scheme).
/// </summary>
internal sealed class ReversibleRungeKuttaGradient<T> : ISolveGradient<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const double LandingSlack = 1e-9;
    private readonly Shape shape;
    private readonly T lambda;
    // Adaptive steps keep each accepted step's end time (8 bytes a step); fixed steps keep nothing per step, since the
    // schedule computes step j of interval k as t_k + j·h in both passes, bit for bit.
    private readonly List<double> stepEnds = [];
    private ReversibleSchedule? schedule;
    private ReversibleSchedule? fixedSchedule;
    private int accepted;
    private int[] stepCounts = [];
    private double[] times = [];
    private int firstSaved;
    private long initialEvaluations;
    private double[] atol = [], rtol = [];
    private bool ready;
    private IDifferentiableDynamics<T>? dynamics;
    private ExplicitRungeKutta<T>? engine;
    private StepRecorder<T>? recorder;
    private readonly IntegratorCache<T> probes = new();
    private T[] saved = [];
    private T[] y = [], z = [], yNew = [], zNew = [], stepped = [], error = [];
    private T[] finalY = [], finalZ = [], f0 = [];
    private T[] yBar = [], zBar = [], bar = [], scratch = [], thetaBar = [];

    public ReversibleRungeKuttaGradient(Shape shape, double coupling)
    {
        this.shape = shape;
        lambda = T.CreateTruncating(coupling);
    }

    /// <summary>y0 and z0 as the last backward pass reconstructed them (both equal the initial state up to round-off).</summary>
    internal (T[] Y, T[] Z) Reconstructed => (y, z);

    /// <summary>Step times the last forward stored (none with fixed steps).</summary>
    internal int StoredStepTimes => stepEnds.Count;

    /// <summary>The end time of every accepted step of the last forward, in order (materialised from the schedule for fixed steps).</summary>
    internal IReadOnlyList<double> StepEnds =>
        schedule is null ? stepEnds : [.. Enumerable.Range(0, stepCounts.Length).SelectMany(k => Enumerable.Range(1, stepCounts[k]).Select(j => schedule.StepTime(k, j)))];

    public SolveStats Forward(IDifferentiableDynamics<T> f, ReadOnlySpan<T> y0, SaveAt saveAt, SolveOptions options, Span<T> output)
    {
        Ode.Validate(f, y0, saveAt, options);
        ReversibleRungeKutta.EnsureSupported(options);
        ready = false;
        int n = f.Dimension;
        if (output.Length != saveAt.Count * n)
            throw new ArgumentException($"output has {output.Length} elements but {saveAt.Count} saved states of {n} need {saveAt.Count * n}.", nameof(output));
        Prepare(f, options, n);
        var tableau = options.Method;
        var pi = options.StepSize as PiController;
        Tolerances(options.AbsoluteTolerances, options.AbsoluteTolerance, ref atol);
        Tolerances(options.RelativeTolerances, options.RelativeTolerance, ref rtol);
        times = saveAt.TimesArray;
        firstSaved = saveAt.FirstSavedIndex;
        if (stepCounts.Length != times.Length - 1) stepCounts = new int[times.Length - 1];
        else Array.Clear(stepCounts);
        stepEnds.Clear();
        accepted = 0;
        // The fixed-step schedule is overwritten in place (kept across iterations even while an adaptive solve clears it).
        fixedSchedule = pi is null ? ReversibleSchedule.Create(saveAt, ((FixedStep)options.StepSize).StepSize, options.MaxSteps, fixedSchedule) : fixedSchedule;
        schedule = pi is null ? fixedSchedule : null;
        y0.CopyTo(y);
        y0.CopyTo(z);
        if (firstSaved == 0) y0.CopyTo(output[..n]);
        engine!.FunctionEvaluations = 0;
        initialEvaluations = 0;

        double h = pi is null ? ((FixedStep)options.StepSize).StepSize : InitialStep(f, options, y0);
        long evaluations = 0;
        int rejected = 0;
        double previousRatio = 1, lastStep = 0, firstStep = 0;
        bool lastNonFinite = false;
        for (int k = 0; k + 1 < times.Length; k++)
        {
            double t = times[k], stop = times[k + 1];
            double direction = Math.Sign(stop - t);
            h = direction * Math.Abs(h);
            while (t != stop)
            {
                if (accepted + rejected >= options.MaxSteps) throw new OdeSolverException(SolveFailure.MaxStepsReached, t, h, options.MaxSteps);
                double tNew;
                if (schedule is not null)
                {
                    tNew = schedule.StepTime(k, stepCounts[k] + 1);
                }
                else
                {
                    bool landing = direction * (t + h - stop) >= -LandingSlack * Math.Abs(h);
                    tNew = landing ? stop : t + h;
                }
                double step = tNew - t;
                if (!double.IsFinite(step)) throw new OdeSolverException(SolveFailure.NonFiniteStepSize, t, step, accepted);
                if (t + step == t) throw new OdeSolverException(lastNonFinite ? SolveFailure.NonFiniteState : SolveFailure.StepSizeUnderflow, t, h, accepted);

                // y' = λ(y − z) + Φ(t → t', z); z' = y' + z − Φ(t' → t, y'), whose embedded estimate is the step's error.
                engine.Step(f, t, step, z, default, stepped, default);
                for (int i = 0; i < n; i++) yNew[i] = lambda * (y[i] - z[i]) + stepped[i];
                engine.Step(f, tNew, -step, yNew, default, stepped, pi is null ? default : error);
                for (int i = 0; i < n; i++) zNew[i] = yNew[i] + z[i] - stepped[i];

                bool finite = Integrator<T>.AllFinite(yNew) && Integrator<T>.AllFinite(zNew);
                lastNonFinite = !finite;
                if (pi is not null)
                {
                    double ratio = finite ? options.Norm.Compute<T>(error, y, yNew, atol, rtol) : double.PositiveInfinity;
                    if (double.IsNaN(ratio)) ratio = double.PositiveInfinity;
                    bool accept = ratio <= 1;
                    if (!accept && Math.Abs(step) <= pi.DtMin)
                        throw new OdeSolverException(finite ? SolveFailure.StepSizeUnderflow : SolveFailure.NonFiniteState, t, step, accepted);
                    double next = Math.Abs(step) * pi.Factor(ratio, previousRatio, tableau.ControllerOrder, accept);
                    h = direction * Math.Clamp(next, Math.Max(pi.DtMin, 0), pi.DtMax);
                    if (!accept)
                    {
                        rejected++;
                        continue;
                    }
                    previousRatio = ratio;
                }
                else if (!finite)
                {
                    throw new OdeSolverException(SolveFailure.NonFiniteState, t, step, accepted);
                }
                if (accepted == 0) firstStep = step;
                lastStep = step;
                yNew.CopyTo(y);
                zNew.CopyTo(z);
                if (schedule is null) stepEnds.Add(tNew);
                accepted++;
                stepCounts[k]++;
                t = tNew;
            }
            int row = k + 1 - firstSaved;
            y.CopyTo(output.Slice(row * n, n));
        }
        evaluations += engine.FunctionEvaluations;
        if (saved.Length != output.Length) saved = new T[output.Length];
        output.CopyTo(saved);
        y.CopyTo(finalY);
        z.CopyTo(finalZ);
        ready = true;
        return new SolveStats(evaluations + initialEvaluations, accepted, rejected, lastStep, firstStep);
    }

    public GradientStats Backward(ReadOnlySpan<T> outputCotangent, Span<T> gradY0, Span<T> gradTheta, Span<double> gradTimes)
    {
        if (!ready || dynamics is null || recorder is null) throw new InvalidOperationException("Backward needs a Forward that completed first.");
        int n = dynamics.Dimension;
        if (outputCotangent.Length != saved.Length) throw new ArgumentException($"outputCotangent has {outputCotangent.Length} elements, the output {saved.Length}.", nameof(outputCotangent));
        if (gradY0.Length != n) throw new ArgumentException($"gradY0 has {gradY0.Length} elements, the state {n}.", nameof(gradY0));
        if (gradTheta.Length != dynamics.Parameters.Length) throw new ArgumentException($"gradTheta has {gradTheta.Length} elements, the parameters {dynamics.Parameters.Length}.", nameof(gradTheta));
        bool timeGradients = !gradTimes.IsEmpty;
        if (timeGradients && gradTimes.Length != times.Length) throw new ArgumentException($"gradTimes has {gradTimes.Length} elements, the times {times.Length}.", nameof(gradTimes));

        finalY.CopyTo(y);
        finalZ.CopyTo(z);
        Array.Clear(yBar);
        Array.Clear(zBar);
        Array.Clear(thetaBar);
        var sink = GradientSink<T>.Into(dynamics.Parameters, thetaBar);
        long evaluations = 0, vjpsBefore = recorder.VjpCount;
        int s = recorder.Tableau.Stages;
        int index = accepted;
        for (int k = times.Length - 2; k >= 0; k--)
        {
            int row = k + 1 - firstSaved;
            if (timeGradients) gradTimes[k + 1] = 0;
            if (row >= 0)
            {
                var cotangent = outputCotangent.Slice(row * n, n);
                TensorPrimitives.Add(yBar, cotangent, yBar);
                if (timeGradients)
                {
                    dynamics.Evaluate(times[k + 1], saved.AsSpan(row * n, n), scratch);
                    evaluations++;
                    gradTimes[k + 1] = TimeGradient.Dot(cotangent, scratch);
                }
            }
            for (int j = stepCounts[k] - 1; j >= 0; j--)
            {
                index--;
                double tEnd = schedule?.StepTime(k, j + 1) ?? stepEnds[index];
                double tStart = schedule?.StepTime(k, j) ?? (index > 0 ? stepEnds[index - 1] : times[0]);
                double step = tEnd - tStart;
                recorder.Reset();
                // Reconstruct: z_n = z_{n+1} − y_{n+1} + Φ(t_{n+1} → t_n, y_{n+1}); y_n = (y_{n+1} − Φ(t_n → t_{n+1}, z_n))/λ + z_n.
                int back = recorder.RecordStep(dynamics, tEnd, -step, y, -1, false, stepped);
                for (int i = 0; i < n; i++) zNew[i] = z[i] - y[i] + stepped[i];
                int forward = recorder.RecordStep(dynamics, tStart, step, zNew, -1, false, stepped);
                for (int i = 0; i < n; i++) yNew[i] = (y[i] - stepped[i]) / lambda + zNew[i];
                evaluations += 2L * s;

                // z_{n+1} = y_{n+1} + z_n − Φ_back(y_{n+1}): the backward base step receives −z̄_{n+1}.
                for (int i = 0; i < n; i++) bar[i] = -zBar[i];
                recorder.StepVjp(back, -step, bar, recorder.ClearedStageCotangents(), sink);
                for (int i = 0; i < n; i++) yBar[i] += zBar[i] + bar[i];
                // y_{n+1} = λ(y_n − z_n) + Φ_fwd(z_n).
                yBar.CopyTo(bar);
                recorder.StepVjp(forward, step, bar, recorder.ClearedStageCotangents(), sink);
                for (int i = 0; i < n; i++)
                {
                    zBar[i] += bar[i] - lambda * yBar[i];
                    yBar[i] *= lambda;
                }
                yNew.CopyTo(y);
                zNew.CopyTo(z);
            }
        }
        recorder.Reset();

        // y0 = z0 = the initial state.
        for (int i = 0; i < n; i++) gradY0[i] = yBar[i] + zBar[i];
        if (timeGradients)
        {
            dynamics.Evaluate(times[0], y, f0);
            evaluations++;
            gradTimes[0] = -TimeGradient.Dot(gradY0, f0);
        }
        if (firstSaved == 0) TensorPrimitives.Add(gradY0, outputCotangent[..n], gradY0);
        TensorPrimitives.Add(gradTheta, thetaBar, gradTheta);
        return new GradientStats(evaluations, recorder.VjpCount - vjpsBefore, accepted, accepted);
    }

    private void Prepare(IDifferentiableDynamics<T> f, SolveOptions options, int n)
    {
        if (ReferenceEquals(f, dynamics) && engine is not null && recorder is not null && ReferenceEquals(engine.Tableau, options.Method)
            && engine.TorchdiffeqStageTimes == options.TorchdiffeqStageTimes)
            return;
        dynamics = f;
        engine = new ExplicitRungeKutta<T>(options.Method, n) { TorchdiffeqStageTimes = options.TorchdiffeqStageTimes };
        recorder = new StepRecorder<T>(options.Method, shape, options.TorchdiffeqStageTimes, StepwiseGradient<T>.ChunkLength(n));
        recorder.Bind(f);
        y = new T[n];
        z = new T[n];
        yNew = new T[n];
        zNew = new T[n];
        stepped = new T[n];
        error = new T[n];
        finalY = new T[n];
        finalZ = new T[n];
        f0 = new T[n];
        yBar = new T[n];
        zBar = new T[n];
        bar = new T[n];
        scratch = new T[n];
        thetaBar = new T[f.Parameters.Length];
    }

    /// <summary>The base method's first step for an adaptive solve: the controller's setting, or the Hairer–Wanner probe of <see cref="Integrator{T}"/>.</summary>
    private double InitialStep(IDifferentiableDynamics<T> f, SolveOptions options, ReadOnlySpan<T> y0)
    {
        var pi = (PiController)options.StepSize;
        if (pi.InitialStep is double given) return Math.Clamp(Math.Abs(given), pi.DtMin, pi.DtMax);
        // Kept while the dynamics and the options (by value) stay: Start resets it, so it probes as a new one would.
        var probe = probes.For(f, options);
        var failure = probe.Start(times[0], times[^1], y0);
        if (failure != SolveFailure.None) throw new OdeSolverException(failure, times[0], probe.NextStepSize, 0);
        initialEvaluations = probe.Stats.FunctionEvaluations;
        return Math.Abs(probe.NextStepSize);
    }

    private static void Tolerances(IReadOnlyList<double>? perComponent, double scalar, ref double[] destination)
    {
        int length = perComponent?.Count ?? 1;
        if (destination.Length != length) destination = new double[length];
        if (perComponent is null) destination[0] = scalar;
        else for (int i = 0; i < length; i++) destination[i] = perComponent[i];
    }
}
