namespace NeuralOde.Core;

/// <summary>One accepted step of a solve: from <paramref name="Time"/> by <paramref name="StepSize"/> to <paramref name="EndTime"/>.</summary>
/// <param name="Time">The step's start time.</param>
/// <param name="StepSize">The step size the stages used (signed).</param>
/// <param name="EndTime">The step's end time: Time + StepSize, or the landing time the loop snapped to.</param>
/// <param name="EndStageBeforeStepEnd">Whether the c = 1 stages were evaluated just before a jump at the step's end.</param>
internal readonly record struct AcceptedStep(double Time, double StepSize, double EndTime, bool EndStageBeforeStepEnd);

/// <summary>Where the f(t, y0) an accepted step started from came from: the provenance a recording strategy needs.</summary>
internal enum StartDerivativeSource
{
    /// <summary>The step evaluated it itself (its own first evaluation).</summary>
    EvaluatedInStep,

    /// <summary>The loop's evaluation of f(t0, y0) when the solve started (its first evaluation).</summary>
    SolveStart,

    /// <summary>The previous step's end derivative provided by the stepper (first same as last).</summary>
    PreviousStepEnd,

    /// <summary>The loop's evaluation of f(t1, y1) after the previous step, made for cubic Hermite interpolation.</summary>
    PreviousEndEvaluation,

    /// <summary>The first evaluation of an earlier, rejected attempt at this step (which evaluated it itself).</summary>
    RejectedAttempt,
}

/// <summary>Receives what the step loop does, in order: each attempt, each accepted step with its provenance, each output it serves.</summary>
/// <typeparam name="T">The state's element type.</typeparam>
internal interface IStepListener<T>
{
    /// <summary>Called before each attempted step (accepted or not).</summary>
    void AttemptStarting();

    /// <summary>Called when an attempt is rejected, with what it reused and produced.</summary>
    void AttemptRejected(in Solvers.StepOutcome outcome);

    /// <summary>Called for each accepted step (numbered from 0), before its outputs are served.</summary>
    /// <param name="index">The step's number.</param>
    /// <param name="step">The step.</param>
    /// <param name="source">Where its f(t, y0) came from.</param>
    /// <param name="startState">Its start state.</param>
    void StepAccepted(int index, in AcceptedStep step, StartDerivativeSource source, ReadOnlySpan<T> startState);

    /// <summary>Called after the loop evaluated f(t1, y1) of step <paramref name="index"/> for cubic Hermite interpolation.</summary>
    void EndDerivativeEvaluated(int index, in AcceptedStep step, ReadOnlySpan<T> endState);

    /// <summary>Called for each saved output served from step <paramref name="index"/> (at its end, or interpolated inside it).</summary>
    void OutputServed(int index, int timeIndex, double time, bool atStepEnd);
}
