namespace NeuralOde.Core;

/// <summary>Why a solve stopped before reaching its last time.</summary>
public enum SolveFailure
{
    /// <summary>The solve reached its last time (or a terminal event).</summary>
    None,

    /// <summary>The number of attempted steps reached <see cref="SolveOptions.MaxSteps"/>: the problem may be stiff, or the tolerance too tight.</summary>
    MaxStepsReached,

    /// <summary>The step size fell to the smallest allowed (or to the resolution of t) and the error test still failed.</summary>
    StepSizeUnderflow,

    /// <summary>The dynamics returned a non-finite value (NaN or ±∞), or the state became non-finite.</summary>
    NonFiniteState,

    /// <summary>
    /// The step size itself was not finite (the initial-step estimate or the controller gave NaN or ±∞, because the
    /// scaled norms of the state overflowed): the tolerances are too small for the state's magnitude. Reported before
    /// such a step is attempted.
    /// </summary>
    NonFiniteStepSize,

    /// <summary>
    /// An implicit method's Newton iteration diverged or did not converge, and the step could not be shrunk further
    /// (or the step was fixed). Reported with the time and step of the last attempt.
    /// </summary>
    NewtonDidNotConverge,

    /// <summary>
    /// The iteration matrix I − hγJ of an implicit or Rosenbrock method was singular or not finite, and the step could
    /// not be shrunk further (or the step was fixed).
    /// </summary>
    SingularMatrix,
}

/// <summary>The message and remedy of each <see cref="SolveFailure"/>.</summary>
public static class SolveFailureMessages
{
    /// <summary>A sentence describing <paramref name="failure"/> at time <paramref name="t"/> with step <paramref name="h"/> after <paramref name="steps"/> steps.</summary>
    /// <param name="failure">The reason.</param>
    /// <param name="t">The time the solve stopped at.</param>
    /// <param name="h">The last attempted step size.</param>
    /// <param name="steps">The number of attempted steps.</param>
    /// <returns>The message.</returns>
    public static string Describe(this SolveFailure failure, double t, double h, int steps) => failure switch
    {
        SolveFailure.None => $"The solve succeeded (t = {t:R}, {steps} steps).",
        SolveFailure.MaxStepsReached => $"The solve took its maximum of {steps} steps and stopped at t = {t:R} with h = {h:R}: increase MaxSteps, loosen the tolerances, or the problem may be stiff.",
        SolveFailure.StepSizeUnderflow => $"The step size underflowed at t = {t:R}: h = {h:R} still failed the error test after {steps} steps; the solution may be singular there, or DtMin is too large.",
        SolveFailure.NonFiniteState => $"The dynamics returned a non-finite value (NaN or infinity) at t = {t:R} (h = {h:R}, after {steps} steps); check the dynamics near that time.",
        SolveFailure.NonFiniteStepSize => $"The step size became {h:R} at t = {t:R} after {steps} steps, so no step was taken: the error norm scaled by the tolerances overflowed (atol + rtol·|y| is too small for the state's magnitude); raise rtol or atol.",
        SolveFailure.NewtonDidNotConverge => $"The implicit method's Newton iteration did not converge at t = {t:R} (h = {h:R}, after {steps} steps) and the step could not be shrunk (a fixed step, or the smallest the controller allows): the Jacobian may be badly approximated (supply a better-scaled state), or the dynamics are not smooth there.",
        SolveFailure.SingularMatrix => $"The iteration matrix I − hγJ was singular or not finite at t = {t:R} (h = {h:R}, after {steps} steps) and the step could not be shrunk: the Jacobian has a non-finite entry or the problem is singular there.",
        _ => $"Unknown failure {failure} at t = {t:R}.",
    };
}
