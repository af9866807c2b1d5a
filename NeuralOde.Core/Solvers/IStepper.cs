using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>One step of a method: from (t, y0) with a signed step h to y1 and an error estimate.</summary>
/// <typeparam name="T">The state's element type, <see cref="float"/> or <see cref="double"/>.</typeparam>
/// <remarks>
/// <para>
/// The step loop (accept/reject, landing on times, limits, outputs, events) is written once and drives any stepper;
/// a stepper never decides acceptance. A stepper's state may carry more than the solution (a reversible method's
/// auxiliary state): the loop saves and measures the error of the first <see cref="OutputDimension"/> elements only.
/// </para>
/// <para>
/// What a step reused and produced is part of the contract (its <see cref="StepOutcome"/>), so the loop can reuse
/// f(t0, y0) and an FSAL end derivative and tell whoever records the step exactly which evaluation was which.
/// </para>
/// </remarks>
public interface IStepper<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The length of the stepper's state (at least <see cref="OutputDimension"/>).</summary>
    int Dimension { get; }

    /// <summary>The length of the solution y at the start of the state (the dynamics' dimension).</summary>
    int OutputDimension { get; }

    /// <summary>The order the step-size controller and the initial-step heuristic use (the lower order of an embedded pair plus one).</summary>
    int ControllerOrder { get; }

    /// <summary>Whether <see cref="Step"/> writes an error estimate (needed by an adaptive controller).</summary>
    bool HasErrorEstimate { get; }

    /// <summary>Whether the step uses f(t, y0) when the loop supplies it (saving an evaluation).</summary>
    bool TakesStartDerivative { get; }

    /// <summary>Whether a step leaves f(t1, y1) in <see cref="EndDerivative"/> (first same as last).</summary>
    bool ProvidesEndDerivative { get; }

    /// <summary>Whether the method has its own continuous extension (<see cref="Interpolate"/>); otherwise the loop uses cubic Hermite.</summary>
    bool HasInterpolation { get; }

    /// <summary>The evaluations of f this stepper has made since its counter was last reset.</summary>
    long FunctionEvaluations { get; set; }

    /// <summary>Takes one step.</summary>
    /// <param name="f">The dynamics (dimension <see cref="OutputDimension"/>).</param>
    /// <param name="input">The start time, the signed step and the stage-time convention.</param>
    /// <param name="y0">The start state (length <see cref="Dimension"/>).</param>
    /// <param name="f0">f(t, y0[..OutputDimension]) if the loop has it and <see cref="TakesStartDerivative"/>, else empty.</param>
    /// <param name="y1">Receives the state at the step's end.</param>
    /// <param name="error">Receives the error estimate of the solution part (length <see cref="OutputDimension"/>), or is empty.</param>
    /// <returns>What the step reused and produced.</returns>
    StepOutcome Step(IDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0, Span<T> y1, Span<T> error);

    /// <summary>f(t, y0) as the last step used it (supplied or evaluated).</summary>
    ReadOnlySpan<T> StartDerivative { get; }

    /// <summary>f(t1, y1) of the last step when <see cref="ProvidesEndDerivative"/>; empty otherwise.</summary>
    ReadOnlySpan<T> EndDerivative { get; }

    /// <summary>
    /// Writes the start state for the solution <paramref name="y0"/> at <paramref name="t0"/>: by default y0 itself,
    /// the rest of a longer state zero; a method that carries more (an auxiliary state, a derivative) may evaluate
    /// <paramref name="f"/> here, counted in <see cref="FunctionEvaluations"/>.
    /// </summary>
    /// <param name="f">The dynamics.</param>
    /// <param name="t0">The start time.</param>
    /// <param name="y0">The initial solution (length <see cref="OutputDimension"/>).</param>
    /// <param name="state">Receives the stepper's initial state (length <see cref="Dimension"/>).</param>
    void InitializeState(IDynamics<T> f, double t0, ReadOnlySpan<T> y0, Span<T> state)
    {
        y0.CopyTo(state);
        state[y0.Length..].Clear();
    }

    /// <summary>The method's own continuous extension inside the last step: the solution at t + θh.</summary>
    /// <param name="y0">The last step's start state.</param>
    /// <param name="h">The last step's signed size.</param>
    /// <param name="theta">The fraction θ ∈ [0, 1] of the step.</param>
    /// <param name="destination">Receives the solution part (length <see cref="OutputDimension"/>).</param>
    void Interpolate(ReadOnlySpan<T> y0, double h, double theta, Span<T> destination);
}

/// <summary>The request of one step.</summary>
/// <param name="Time">The start time t.</param>
/// <param name="StepSize">The signed step h.</param>
/// <param name="EndStageBeforeStepEnd">Whether stages at c = 1 are evaluated one unit in the last place before t + h (the left side of a jump of f there).</param>
/// <param name="EndTime">The time the step's end will be recorded at: t + h, or the landing or grid time the loop chose (which can differ from t + h in the last bit).</param>
public readonly record struct StepInput(double Time, double StepSize, bool EndStageBeforeStepEnd, double EndTime);

/// <summary>What one step did besides writing y1 and its error estimate.</summary>
/// <param name="Evaluations">The evaluations of f the step made.</param>
/// <param name="StartDerivativeSupplied">Whether the step used the f(t, y0) it was given instead of evaluating it.</param>
/// <param name="EndDerivativeAvailable">Whether <see cref="IStepper{T}.EndDerivative"/> now holds f(t1, y1).</param>
public readonly record struct StepOutcome(int Evaluations, bool StartDerivativeSupplied, bool EndDerivativeAvailable)
{
    /// <summary>
    /// Why the stepper rejected the step itself (its y1 and error estimate then mean nothing): the loop shrinks h, and
    /// reports this reason if it cannot, or at once with a fixed step.
    /// </summary>
    public StepRejection Rejection { get; init; }
}

/// <summary>Why a stepper rejected its own step.</summary>
public enum StepRejection
{
    /// <summary>The step was taken.</summary>
    None,

    /// <summary>An implicit stage's Newton iteration diverged or did not converge.</summary>
    NewtonDidNotConverge,

    /// <summary>The iteration matrix could not be factored (singular or not finite).</summary>
    SingularMatrix,
}
