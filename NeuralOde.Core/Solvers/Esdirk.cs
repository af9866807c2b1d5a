using System.Numerics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// An ESDIRK method for stiff problems, from its tableau (<see cref="EsdirkTableaus.Kvaerno5"/>, <c>Kvaerno4</c>,
/// <c>Kvaerno3</c>): set <c>SolveOptions.Stepper = new Esdirk(EsdirkTableaus.Kvaerno5)</c>.
/// </summary>
/// <remarks>
/// <para>
/// Each step evaluates ∂f/∂y and ∂f/∂t at its start by forward differences (n + 1 evaluations, counted in the function
/// evaluations; a step retried after a rejection keeps them), factors I − hγJ once (LU with partial pivoting, in
/// double) and solves every implicit stage by a simplified Newton iteration on that matrix, stopped in the tolerance
/// units of the solve's own rtol and atol. A Newton iteration that diverges or does not converge within
/// <see cref="MaxNewtonIterations"/> rejects the step (the loop shrinks h); if the loop can shrink no further the solve
/// fails with NewtonDidNotConverge, or SingularMatrix when I − hγJ could not be factored.
/// </para>
/// <para>
/// Plain solves, <see cref="OdeStepper{T}"/>, events, dense output (cubic Hermite) and the adjoint run it, and Backprop
/// and Checkpointed differentiate its steps by the implicit function theorem: at each converged stage the exact
/// Jacobian (D vector–Jacobian products, block-diagonal for independent rows) is factored and one transposed solve
/// gives the stage's cotangent; the Newton iterations are never differentiated, so the gradient is that of the exact
/// stage solutions (the forward's differ from them within the Newton tolerance). The Newton's convergence memory is
/// reset at each step, so a step is a function of its start state, as recomputing it requires. Zero bytes are allocated
/// per step, forward or backward, once the buffers exist.
/// </para>
/// </remarks>
public sealed class Esdirk : IStepperFactory
{
    /// <summary>Creates the method of <paramref name="tableau"/>.</summary>
    /// <param name="tableau">The coefficients.</param>
    public Esdirk(EsdirkTableau tableau)
    {
        ArgumentNullException.ThrowIfNull(tableau);
        Tableau = tableau;
        newtonTolerance = tableau.NewtonTolerance;
    }

    /// <summary>The coefficients.</summary>
    public EsdirkTableau Tableau { get; }

    /// <summary>Newton iterations allowed per stage before the step is rejected (default 10, as diffrax).</summary>
    public int MaxNewtonIterations
    {
        get => maxNewtonIterations;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            maxNewtonIterations = value;
        }
    }

    private readonly int maxNewtonIterations = 10;

    /// <summary>κ: a stage has converged once its estimated remaining Newton error is below κ tolerance units (default the tableau's: 0.03 for Kværnø's, Hairer and Wanner's range 0.01–0.1; 1e-3 for TR-BDF2).</summary>
    public double NewtonTolerance
    {
        get => newtonTolerance;
        init
        {
            if (!(value > 0) || !double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(NewtonTolerance), value, "κ must be positive and finite.");
            newtonTolerance = value;
        }
    }

    private readonly double newtonTolerance;

    /// <inheritdoc />
    /// <remarks>Without the solve's tolerances Newton stops in units of rtol = 1e-6, atol = 1e-9 (the solve defaults).</remarks>
    public IStepper<T> Create<T>(int dimension)
        where T : unmanaged, IFloatingPointIeee754<T> => Create<T>(dimension, new StepperTolerances([1e-9], [1e-6]));

    /// <inheritdoc />
    public IStepper<T> Create<T>(int dimension, StepperTolerances tolerances)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentNullException.ThrowIfNull(tolerances);
        return new EsdirkStepper<T>(this, dimension, tolerances);
    }

    /// <inheritdoc />
    public override string ToString() => Tableau.Name;
}
