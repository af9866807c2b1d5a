namespace NeuralOde.Core.Sensitivity;

/// <summary>One accepted step of a forward: from <paramref name="Time"/> by <paramref name="StepSize"/> to <paramref name="EndTime"/>.</summary>
/// <param name="Time">The step's start time.</param>
/// <param name="StepSize">The step size the stages used (signed).</param>
/// <param name="EndTime">The step's end time: Time + StepSize, or the landing time the integrator snapped to.</param>
/// <param name="EndStageBeforeStepEnd">Whether the c = 1 stages were evaluated just before a jump at the step's end.</param>
internal readonly record struct AcceptedStep(double Time, double StepSize, double EndTime, bool EndStageBeforeStepEnd);
