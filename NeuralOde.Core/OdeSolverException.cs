namespace NeuralOde.Core;

/// <summary>A solve failed numerically: it carries the reason, the time, the step size and the step count.</summary>
public sealed class OdeSolverException : Exception
{
    /// <summary>Creates the exception with the message of <paramref name="reason"/>.</summary>
    /// <param name="reason">Why the solve stopped.</param>
    /// <param name="time">The time the solve stopped at.</param>
    /// <param name="stepSize">The last attempted step size.</param>
    /// <param name="stepCount">The number of attempted steps (accepted and rejected).</param>
    public OdeSolverException(SolveFailure reason, double time, double stepSize, int stepCount)
        : base(reason.Describe(time, stepSize, stepCount))
    {
        Reason = reason;
        Time = time;
        StepSize = stepSize;
        StepCount = stepCount;
    }

    /// <summary>Creates the exception with a message saying where the failure happened, and its location.</summary>
    internal OdeSolverException(SolveFailure reason, double time, double stepSize, int stepCount, string message, int? instance = null, (double From, double To)? backwardInterval = null)
        : base(message)
    {
        Reason = reason;
        Time = time;
        StepSize = stepSize;
        StepCount = stepCount;
        Instance = instance;
        BackwardInterval = backwardInterval;
    }

    /// <summary>The loop's failure, with the stiffness it detected on the way (the remedy for a MaxSteps failure on a stiff problem).</summary>
    internal static OdeSolverException FromLoop(SolveFailure reason, double time, double stepSize, int stepCount, in SolveStats stats)
    {
        string message = reason.Describe(time, stepSize, stepCount);
        if (reason == SolveFailure.MaxStepsReached && stats.StiffnessDetectedAt is double from)
        {
            message += $" The problem appears stiff from t = {from:R} on (the explicit method's steps were held at the edge of its stability region): a stiff method, SolveOptions.Stepper = new Rosenbrock(RosenbrockTableaus.Rodas5P), takes far fewer steps.";
        }
        return new OdeSolverException(reason, time, stepSize, stepCount, message);
    }

    /// <summary>The failure of a loop run.</summary>
    internal static OdeSolverException FromRun(in RunResult result) =>
        FromLoop(result.Failure, result.FailureTime, result.FailureStep, result.AttemptedSteps, result.Stats);

    /// <summary>Creates the exception with a message.</summary>
    public OdeSolverException() : this(SolveFailure.None, double.NaN, double.NaN, 0) { }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public OdeSolverException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public OdeSolverException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Why the solve stopped.</summary>
    public SolveFailure Reason { get; }

    /// <summary>The time the solve stopped at.</summary>
    public double Time { get; }

    /// <summary>The last attempted step size.</summary>
    public double StepSize { get; }

    /// <summary>The number of attempted steps.</summary>
    public int StepCount { get; }

    /// <summary>For a failure of an <see cref="Batch.IndependentSolver{T}"/>, the index of the instance that failed (the lowest that did); otherwise null.</summary>
    public int? Instance { get; }

    /// <summary>
    /// For a failure of the continuous adjoint's backward solve, the output interval it was integrating, from the later
    /// saved time back to the earlier one; null for a forward solve.
    /// </summary>
    public (double From, double To)? BackwardInterval { get; }
}
