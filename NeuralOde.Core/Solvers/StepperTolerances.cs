namespace NeuralOde.Core.Solvers;

/// <summary>
/// The tolerances of the solve a stepper is made for (one value for every component, or one per component), so an
/// implicit method can stop its Newton iteration in the same units as the step-size controller's error test.
/// </summary>
/// <param name="Absolute">atol: one value, or one per component.</param>
/// <param name="Relative">rtol: one value, or one per component.</param>
public sealed record StepperTolerances(IReadOnlyList<double> Absolute, IReadOnlyList<double> Relative);
