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
internal sealed class ReversibleRungeKuttaGradient<T> : ISolveGradient<T>, IStepListener<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
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
    private int interval;
    private bool ready;
    private IDifferentiableDynamics<T>? dynamics;
    private readonly double coupling;
    private Integrator<T>? integrator;
    private readonly SolveOptionsKey integratorOptions = new();
    private bool recorderStageTimes;
    private StepRecorder<T>? recorder;
    private T[] saved = [];
    private T[] y = [], z = [], yNew = [], zNew = [], stepped = [];
    private T[] finalY = [], finalZ = [], f0 = [];
    private T[] yBar = [], zBar = [], bar = [], scratch = [], thetaBar = [];

    public ReversibleRungeKuttaGradient(Shape shape, double coupling)
    {
        this.shape = shape;
        this.coupling = coupling;
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
        times = saveAt.TimesArray;
        firstSaved = saveAt.FirstSavedIndex;
        if (stepCounts.Length != times.Length - 1) stepCounts = new int[times.Length - 1];
        else Array.Clear(stepCounts);
        stepEnds.Clear();
        interval = 0;
        // The fixed-step schedule (refusing too many steps before any is taken) is overwritten in place, kept across
        // iterations even while an adaptive solve clears it; the loop's fixed grid is the same, FixedGrid.
        bool fixedStep = options.StepSize is FixedStep;
        fixedSchedule = fixedStep ? ReversibleSchedule.Create(saveAt, ((FixedStep)options.StepSize).StepSize, options.MaxSteps, fixedSchedule) : fixedSchedule;
        schedule = fixedStep ? fixedSchedule : null;

        // The one step loop over the coupled state [y, z]: it lands on every saved time (the coupling cannot interpolate).
        RunResult result = integrator!.Run(times, firstSaved, y0, output, null, null);
        if (result.Failure != SolveFailure.None)
            throw OdeSolverException.FromRun(result);
        accepted = result.Stats.AcceptedSteps;
        if (schedule is not null && accepted != schedule.TotalSteps)
            throw new InvalidOperationException($"The loop took {accepted} fixed steps but the schedule has {schedule.TotalSteps}.");
        if (saved.Length != output.Length) saved = new T[output.Length];
        output.CopyTo(saved);
        integrator.State[..n].CopyTo(finalY);
        integrator.State[n..].CopyTo(finalZ);
        ready = true;
        return result.Stats;
    }

    void IStepListener<T>.AttemptStarting() { }

    void IStepListener<T>.AttemptRejected(in StepOutcome outcome) { }

    void IStepListener<T>.StepAccepted(int index, in AcceptedStep step, StartDerivativeSource source, ReadOnlySpan<T> startState)
    {
        // Adaptive steps keep their end times for the backward; fixed ones are recomputed from the schedule.
        if (schedule is null) stepEnds.Add(step.EndTime);
        stepCounts[interval]++;
    }

    void IStepListener<T>.EndDerivativeEvaluated(int index, in AcceptedStep step, ReadOnlySpan<T> endState) { }

    // Saved time i is served at the end of interval i - 1; the steps after it belong to interval i.
    void IStepListener<T>.OutputServed(int index, int timeIndex, double time, bool atStepEnd) => interval = timeIndex;

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
        if (ReferenceEquals(f, dynamics) && integrator is not null && recorder is not null && integratorOptions.Matches(options))
            return;
        // Kept while the dynamics and the options (by value) stay: Run resets the loop, so it computes what a new one would.
        var engine = new ExplicitRungeKutta<T>(options.Method, n) { TorchdiffeqStageTimes = options.TorchdiffeqStageTimes };
        integrator = new Integrator<T>(f, options, null, new ReversibleCoupling<T>(engine, coupling)) { Listener = this, LandOnSavedTimes = true };
        integratorOptions.Remember(options);
        if (ReferenceEquals(f, dynamics) && recorder is not null && ReferenceEquals(recorder.Tableau, options.Method) && recorderStageTimes == options.TorchdiffeqStageTimes)
            return;
        dynamics = f;
        recorderStageTimes = options.TorchdiffeqStageTimes;
        recorder = new StepRecorder<T>(options.Method, shape, options.TorchdiffeqStageTimes, StepwiseGradient<T>.ChunkLength(n));
        recorder.Bind(f);
        y = new T[n];
        z = new T[n];
        yNew = new T[n];
        zNew = new T[n];
        stepped = new T[n];
        finalY = new T[n];
        finalZ = new T[n];
        f0 = new T[n];
        yBar = new T[n];
        zBar = new T[n];
        bar = new T[n];
        scratch = new T[n];
        thetaBar = new T[f.Parameters.Length];
    }
}
