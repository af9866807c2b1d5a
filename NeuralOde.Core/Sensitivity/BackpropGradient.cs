using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Solvers;

namespace NeuralOde.Core.Sensitivity;

/// <summary>Backprop: the forward's own evaluations are recorded on the tape as it steps, and kept.</summary>
/// <remarks>
/// The step loop evaluates f through this class, so every evaluation is recorded once and nothing is recomputed.
/// A rejected attempt's records are rolled back, so memory holds the accepted steps only (plus f(t0, y0), the one
/// evaluation of the initial-step probe, and a rejected attempt's own f(t, y0) when its retry reuses it). The loop
/// says where each accepted step's f(t, y0) came from (<see cref="StartDerivativeSource"/>): the step points at that
/// record.
/// </remarks>
internal sealed class BackpropGradient<T>(Shape stateShape) : StepwiseGradient<T>(stateShape), IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<AcceptedStep> steps = [];
    private readonly List<int> firstStages = [];
    private readonly List<int> endRecords = [];
    private T[] initial = [];
    private int attemptStart;
    private bool firstOfAttempt;
    private int rejectedStartRecord = -1;

    private CheckpointedGradient<T>? ownSteppers;

    /// <summary>
    /// A stepper of the user's records nothing on the tape: its steps' start states are kept (all of them, so memory
    /// still grows with the steps) and each step is pulled back by its own VJP, as Checkpointed without a budget does.
    /// </summary>
    protected override ISolveGradient<T>? DelegateFor(SolveOptions options) =>
        options.Stepper is null ? null : ownSteppers ??= new CheckpointedGradient<T>(StateShape, budget: null);

    /// <summary>Bytes of activations the last forward kept on the tape.</summary>
    public long RecordedBytes => Recorder.ValueBytesInUse;

    int IDynamics<T>.Dimension => StateShape.Length;

    protected override IDynamics<T> IntegratorDynamics => this;

    protected override ReadOnlySpan<T> InitialState => initial;

    protected override long RecomputedEvaluations => 0;

    protected override int RecomputedStepCount => 0;

    void IDynamics<T>.Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        int record = Recorder.RecordEvaluation(Dynamics, t, y);
        Recorder.CopyDerivative(record, dydt);
        if (firstOfAttempt)
        {
            // A rejected attempt that evaluated its own f(t, y0) keeps this record for its retry.
            Recorder.Mark(slot: 1);
            firstOfAttempt = false;
        }
    }

    protected override void BeginForward()
    {
        Recorder.Reset();
        steps.Clear();
        firstStages.Clear();
        endRecords.Clear();
        firstOfAttempt = false;
        rejectedStartRecord = -1;
    }

    protected override void OnAttemptStarting()
    {
        attemptStart = Recorder.Mark();
        firstOfAttempt = true;
    }

    protected override void OnAttemptRejected(in StepOutcome outcome)
    {
        if (!outcome.StartDerivativeSupplied)
        {
            // The retry reuses this attempt's first evaluation, f(t, y0): keep that record, drop the rest.
            Recorder.RollbackToMark(attemptStart + 1, slot: 1);
            rejectedStartRecord = attemptStart;
        }
        else
        {
            Recorder.RollbackToMark(attemptStart);
        }
        firstOfAttempt = false;
    }

    protected override void OnAcceptedStep(int step, in AcceptedStep info, StartDerivativeSource source, ReadOnlySpan<T> startState)
    {
        steps.Add(info);
        firstOfAttempt = false;
        if (step == 0)
        {
            if (initial.Length != startState.Length) initial = new T[startState.Length];
            startState.CopyTo(initial);
        }
        int s = Recorder.Tableau.Stages;
        int evaluated = Recorder.Count - attemptStart;
        int first = Recorder.Count;
        int reused = source switch
        {
            StartDerivativeSource.EvaluatedInStep => -1,
            StartDerivativeSource.SolveStart => 0,
            StartDerivativeSource.PreviousStepEnd => firstStages[step - 1] + s - 1,
            StartDerivativeSource.PreviousEndEvaluation => endRecords[step - 1],
            _ => rejectedStartRecord,
        };
        if (reused >= 0) Recorder.Append(reused);
        for (int i = attemptStart; i < attemptStart + evaluated; i++) Recorder.Append(i);
        firstStages.Add(first);
        endRecords.Add(-1);
    }

    protected override void OnEndDerivativeEvaluated(int step, in AcceptedStep info, ReadOnlySpan<T> endState) =>
        // The loop evaluated f(t1, y1) through this class, for cubic Hermite interpolation: the last record.
        endRecords[step] = Recorder.Count - 1;

    protected override int PrepareStep(int step, out AcceptedStep info)
    {
        info = steps[step];
        return firstStages[step];
    }

    protected override int EndDerivativeRecord(int step) => endRecords[step];
}
