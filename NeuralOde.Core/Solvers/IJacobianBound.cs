namespace NeuralOde.Core.Solvers;

/// <summary>A stiff stepper that can bound the spectral radius of the Jacobian of its last step (for switching back to an explicit method).</summary>
internal interface IJacobianBound
{
    /// <summary>An upper bound of ρ(∂f/∂y) at the last step's start (‖J‖∞), 0 before any step.</summary>
    double JacobianNormBound { get; }
}
