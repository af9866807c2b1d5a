namespace NeuralOde.Core;

/// <summary>What a solve cost.</summary>
/// <param name="FunctionEvaluations">Calls of the dynamics, including the initial-step probe and rejected steps.</param>
/// <param name="AcceptedSteps">Accepted steps.</param>
/// <param name="RejectedSteps">Rejected steps.</param>
/// <param name="LastStepSize">The size of the last accepted step (signed with the direction of time).</param>
/// <param name="InitialStepSize">The first step size tried (signed).</param>
public readonly record struct SolveStats(long FunctionEvaluations, int AcceptedSteps, int RejectedSteps, double LastStepSize, double InitialStepSize)
{
    /// <summary>Evaluations of the Jacobian ∂f/∂y by a stiff stepper (0 for explicit methods); see <see cref="Solvers.IStepperStatistics"/>.</summary>
    public long JacobianEvaluations { get; init; }

    /// <summary>LU factorisations made by a stiff stepper (0 for explicit methods).</summary>
    public long Factorizations { get; init; }

    /// <summary>Newton iterations of an implicit stepper's stages (0 for explicit and Rosenbrock methods).</summary>
    public long NewtonIterations { get; init; }

    /// <summary>Switches between the non-stiff and the stiff method of <see cref="Solvers.AutoSwitch"/> (0 otherwise).</summary>
    public long MethodSwitches { get; init; }

    /// <summary>
    /// Where an explicit method found the problem stiff (15 accepted steps whose size was held at the edge of the
    /// method's stability region, Hairer's test; see <see cref="Solvers.IStiffnessEstimate"/>), or null. A stiff method
    /// such as <c>new Rosenbrock(RosenbrockTableaus.Rodas5P)</c> will take far fewer steps from there on.
    /// </summary>
    public double? StiffnessDetectedAt { get; init; }
}

/// <summary>One accepted step: it started at <paramref name="Time"/> and had the signed size <paramref name="StepSize"/>.</summary>
/// <param name="Time">The step's start time.</param>
/// <param name="StepSize">The signed step size; the step ended at Time + StepSize (exactly at a landing time when it was clipped).</param>
/// <param name="EndTime">The step's end time as the solve used it.</param>
public readonly record struct StepRecord(double Time, double StepSize, double EndTime);
