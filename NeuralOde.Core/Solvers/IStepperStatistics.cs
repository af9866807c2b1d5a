namespace NeuralOde.Core.Solvers;

/// <summary>
/// The counters a linearly implicit or implicit stepper keeps besides its function evaluations. The loop resets them
/// when a solve starts (as it resets <see cref="IStepper{T}.FunctionEvaluations"/>) and reports them in
/// <see cref="SolveStats"/>; a stepper without them reports zeros.
/// </summary>
public interface IStepperStatistics
{
    /// <summary>Evaluations of ∂f/∂y (a finite-difference Jacobian's evaluations of f are counted as function evaluations too).</summary>
    long JacobianEvaluations { get; set; }

    /// <summary>LU factorisations of an iteration matrix such as I − hγJ (a block-diagonal one, B blocks, counts once).</summary>
    long Factorizations { get; set; }

    /// <summary>Newton iterations of implicit stages (0 for a linearly implicit method, which solves each stage once).</summary>
    long NewtonIterations
    {
        get => 0;
        set { }
    }

    /// <summary>Switches between a non-stiff and a stiff method (<see cref="AutoSwitch"/>).</summary>
    long MethodSwitches
    {
        get => 0;
        set { }
    }
}
