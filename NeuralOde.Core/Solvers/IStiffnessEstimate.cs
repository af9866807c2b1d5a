namespace NeuralOde.Core.Solvers;

/// <summary>
/// A stepper that can tell, after an accepted step, whether that step's size was limited by stability rather than
/// accuracy: the loop counts such steps and reports where a problem turns stiff (<see cref="SolveStats.StiffnessDetectedAt"/>
/// and the MaxSteps message).
/// </summary>
public interface IStiffnessEstimate
{
    /// <summary>
    /// |h|·ρ of the last step over the method's real stability boundary, where ρ estimates the dominant eigenvalue of
    /// ∂f/∂y along the solution; above 1 the step sits at the edge of the stability region. NaN when the method cannot
    /// estimate it.
    /// </summary>
    double StiffnessRatio { get; }
}
