using System.Numerics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// Makes the stepper of a method for a given state length: what <see cref="SolveOptions.Stepper"/> holds, so one
/// options object serves float and double solves, and the adjoint's backward solve (whose augmented state is longer)
/// runs the same method.
/// </summary>
/// <remarks>
/// A stepper made here must hold its whole state in the solution (<see cref="IStepper{T}.Dimension"/> equal to
/// <see cref="IStepper{T}.OutputDimension"/>). Under <see cref="Sensitivity.Backprop"/> and
/// <see cref="Sensitivity.Checkpointed"/> it must also implement <see cref="IDifferentiableStepper{T}"/>.
/// </remarks>
public interface IStepperFactory
{
    /// <summary>A new stepper for states of <paramref name="dimension"/> elements (called once per solver, not per step).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="dimension">The state's length.</param>
    /// <returns>The stepper.</returns>
    IStepper<T> Create<T>(int dimension)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// A new stepper for a solve with these <paramref name="tolerances"/>: an implicit method stops its Newton iteration
    /// at the accuracy the step-size controller asks for. By default the tolerances are not needed.
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="dimension">The state's length.</param>
    /// <param name="tolerances">The solve's tolerances.</param>
    /// <returns>The stepper.</returns>
    IStepper<T> Create<T>(int dimension, StepperTolerances tolerances)
        where T : unmanaged, IFloatingPointIeee754<T> => Create<T>(dimension);
}
