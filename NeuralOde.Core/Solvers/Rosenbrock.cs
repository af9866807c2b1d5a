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
/// stiff kinetics and circuits. Plain solves, <see cref="OdeStepper{T}"/>, events, dense output and the adjoint's
/// backward solve run it; Backprop and Checkpointed refuse it, as they need a step's vector–Jacobian product.
/// Zero bytes are allocated per step once the stepper exists.
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
