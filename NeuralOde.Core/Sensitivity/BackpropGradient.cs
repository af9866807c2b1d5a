using System.Numerics;
using NeuralOde.AutoDiff;

namespace NeuralOde.Core.Sensitivity;

/// <summary>Backprop: each accepted step's stages are recorded on the tape during the forward and kept.</summary>
/// <remarks>
/// The recording re-evaluates f once per stage of each accepted step (on the tape, after the step is accepted), so
/// rejected attempts leave nothing behind; FSAL methods reuse the previous step's last stage record.
/// </remarks>
internal sealed class BackpropGradient<T>(Shape stateShape) : StepwiseGradient<T>(stateShape)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<int> firstStages = [];
    private readonly List<int> endRecords = [];
    private T[] initial = [];
    private long recorded;

    /// <summary>Bytes of activations the last forward kept on the tape.</summary>
    public long RecordedBytes => Recorder.Tape.ValueBytesInUse;

    protected override ReadOnlySpan<T> InitialState => initial;

    protected override long RecomputedEvaluations => 0;

    protected override int RecomputedStepCount => 0;

    /// <summary>Evaluations of f made while recording the accepted steps on the tape.</summary>
    public long RecordedEvaluations => recorded;

    protected override void BeginForward()
    {
        Recorder.Reset();
        firstStages.Clear();
        endRecords.Clear();
        recorded = 0;
    }

    protected override void OnAcceptedStep(int step, ReadOnlySpan<T> startState)
    {
        if (step == 0) initial = startState.ToArray();
        var info = Steps[step];
        var tableau = Recorder.Tableau;
        int reuse = step > 0 && tableau.IsFsal && !Steps[step - 1].EndStageBeforeStepEnd ? firstStages[step - 1] + tableau.Stages - 1 : -1;
        int before = Recorder.Count;
        firstStages.Add(Recorder.RecordStep(Dynamics, info.Time, info.StepSize, startState, reuse, info.EndStageBeforeStepEnd, default));
        endRecords.Add(-1);
        recorded += Recorder.Count - before - (reuse >= 0 ? 1 : 0);
    }

    protected override void OnInteriorOutputs(int step, ReadOnlySpan<T> endState)
    {
        endRecords[step] = Recorder.RecordEvaluation(Dynamics, Steps[step].EndTime, endState);
        recorded++;
    }

    protected override int PrepareStep(int step) => firstStages[step];

    protected override int EndDerivativeRecord(int step) => endRecords[step];
}
