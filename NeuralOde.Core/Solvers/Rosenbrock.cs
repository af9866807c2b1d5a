using System.Numerics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// A Rosenbrock method for stiff problems, from its tableau (<see cref="RosenbrockTableaus.Rodas5P"/>,
/// <see cref="RosenbrockTableaus.Rodas4"/>): set <c>SolveOptions.Stepper = new Rosenbrock(RosenbrockTableaus.Rodas5P)</c>.
/// </summary>
/// <remarks>
/// <para>
/// Each step evaluates ∂f/∂y and ∂f/∂t at the step's start by forward differences (n + 1 evaluations of f, counted in
/// the function evaluations), factors I − hγJ once (LU with partial pivoting, in double whatever the state's type)
/// and solves one linear system per stage; there is no Newton iteration. A singular or non-finite matrix rejects the
/// step, so the loop shrinks h and a persistent failure surfaces as StepSizeUnderflow or NonFiniteState with t, h and
/// the step count. The continuous extension of the tableau serves saved times, events and dense output.
/// </para>
/// <para>
/// The work per step is O(n³) for the factorisation and O(s·n²) for the solves: meant for the modest dimensions of
/// stiff kinetics and circuits. Plain solves, <see cref="OdeStepper{T}"/>, events, dense output and the adjoint (use
/// <c>Adjoint { Interpolating = true }</c> on a stiff problem) run it, and Backprop and Checkpointed give the exact
/// gradient of its discrete solve: each stage's transposed solve reuses the step's factorisation, and the dependence of
/// J and ∂f/∂t on y0 and θ is included (a central difference of two VJPs per Jacobian column, or per stage when D
/// exceeds the stages; J and ∂f/∂t themselves are taken as exact, see <see cref="Dynamics.ITimeDerivativeDynamics{T}"/>).
/// A backward step costs s + 2·min(D, s) + 2 VJPs and the recomputed step. Zero bytes are allocated per step, forward or
/// backward, once the buffers exist.
/// </para>
/// </remarks>
public sealed class Rosenbrock : IStepperFactory
{
    /// <summary>Creates the method of <paramref name="tableau"/>.</summary>
    /// <param name="tableau">The coefficients.</param>
    public Rosenbrock(RosenbrockTableau tableau)
    {
        ArgumentNullException.ThrowIfNull(tableau);
        Tableau = tableau;
    }

    /// <summary>The coefficients.</summary>
    public RosenbrockTableau Tableau { get; }

    /// <inheritdoc />
    public IStepper<T> Create<T>(int dimension)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        return new RosenbrockStepper<T>(Tableau, dimension);
    }

    /// <inheritdoc />
    public override string ToString() => Tableau.Name;
}
