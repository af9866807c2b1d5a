using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Sensitivity;

/// <summary>Backprop: the forward's own evaluations are recorded on the tape as it steps, and kept.</summary>
/// <remarks>
/// The step loop evaluates f through this class, so every evaluation is recorded once and nothing is recomputed.
/// Before each attempt the records of a rejected previous attempt are rolled back, so memory holds the accepted
/// steps only (plus f(t0, y0) and the one evaluation of the initial-step probe). A step whose first stage was
/// reused (FSAL, or a Hermite end derivative) points at the record it reused.
/// </remarks>
internal sealed class BackpropGradient<T>(Shape stateShape) : StepwiseGradient<T>(stateShape), IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<AcceptedStep> steps = [];
    private readonly List<int> firstStages = [];
    private readonly List<int> endRecords = [];
    private T[] initial = [];
    private Action? attemptStarting;
    private int attemptStart;
    private bool attemptOpen;
    private bool started;
    private int acceptedAt;

    /// <summary>Bytes of activations the last forward kept on the tape.</summary>
    public long RecordedBytes => Recorder.ValueBytesInUse;

    int IDynamics<T>.Dimension => StateShape.Length;

    protected override IDynamics<T> IntegratorDynamics => this;

    protected override Action? AttemptStarting => attemptStarting ??= OnAttemptStarting;

    protected override ReadOnlySpan<T> InitialState => initial;

    protected override long RecomputedEvaluations => 0;

    protected override int RecomputedStepCount => 0;

    void IDynamics<T>.Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        int record = Recorder.RecordEvaluation(Dynamics, t, y);
        Recorder.CopyDerivative(record, dydt);
    }

    protected override void BeginForward()
    {
        Recorder.Reset();
        steps.Clear();
        firstStages.Clear();
        endRecords.Clear();
        attemptOpen = false;
        started = false;
        acceptedAt = 0;
    }

    private void OnAttemptStarting()
    {
        // A previous attempt that was not accepted was rejected: drop what it recorded.
        if (attemptOpen) Recorder.RollbackToMark(attemptStart);
        attemptStart = Recorder.Mark();
        attemptOpen = true;
    }

    protected override void OnAcceptedStep(int step, in AcceptedStep info, ReadOnlySpan<T> startState)
    {
        steps.Add(info);
        attemptOpen = false;
        if (step == 0)
        {
            if (initial.Length != startState.Length) initial = new T[startState.Length];
            startState.CopyTo(initial);
        }
        int s = Recorder.Tableau.Stages;
        int evaluated = Recorder.Count - attemptStart;
        int first = Recorder.Count;
        if (evaluated < s)
        {
            // Stage 0 came in as f0: f(t0, y0) from the start, the previous step's last stage (FSAL), or the
            // previous step's end derivative (evaluated after its acceptance, before this attempt).
            int f0 = !started ? 0
                : Recorder.Tableau.IsFsal ? firstStages[step - 1] + s - 1
                : attemptStart - 1;
            Recorder.Append(f0);
        }
        for (int i = attemptStart; i < attemptStart + evaluated; i++) Recorder.Append(i);
        started = true;
        firstStages.Add(first);
        endRecords.Add(-1);
        acceptedAt = Recorder.Count;
    }

    protected override void OnInteriorOutputs(int step, in AcceptedStep info, ReadOnlySpan<T> endState)
    {
        // The step loop evaluated f(t1, y1) for the cubic Hermite interpolation through this class: that record.
        endRecords[step] = Recorder.Count > acceptedAt
            ? Recorder.Count - 1
            : Recorder.RecordEvaluation(Dynamics, info.EndTime, endState);
    }

    protected override int PrepareStep(int step, out AcceptedStep info)
    {
        info = steps[step];
        return firstStages[step];
    }

    protected override int EndDerivativeRecord(int step) => endRecords[step];
}
