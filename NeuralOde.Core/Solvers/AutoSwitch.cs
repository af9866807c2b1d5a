using System.Numerics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// Starts with an explicit method and switches to a stiff one where the problem turns stiff, and back where it stops
/// being stiff, as LSODA and DifferentialEquations.jl's AutoTsit5(Rodas5P) do: set
/// <c>SolveOptions.Stepper = new AutoSwitch()</c> (Tsitouras 5(4) and Rodas5P) or name the pair.
/// </summary>
/// <remarks>
/// <para>
/// To the stiff method: Hairer's test on the explicit method (<see cref="IStiffnessEstimate"/>): 15 accepted steps
/// whose size sat at the edge of its stability region, with no run of 6 others between them. Back: 10 accepted stiff
/// steps in a row for which |h|·‖J‖∞ (a bound of |h|·ρ(J) from the stiff method's own Jacobian) is below half the
/// explicit method's real stability boundary, so the explicit method could take that step stably.
/// </para>
/// <para>
/// Both methods should have the same controller order (5 for the default pair), since the step-size controller keeps
/// its history across a switch. A non-stiff problem never leaves the explicit method, and then gives exactly the
/// explicit method's solution and evaluation count. Dense output is cubic Hermite. The number of switches is in
/// <see cref="SolveStats.MethodSwitches"/>.
/// </para>
/// <para>
/// Gradients: the adjoint (<c>Adjoint { Interpolating = true }</c> on a stiff problem). Backprop and Checkpointed refuse
/// it: which method takes a step depends on the switching history, not on the step's start state, so a step cannot be
/// recomputed from its start; choose the stiff method itself for them.
/// </para>
/// </remarks>
public sealed class AutoSwitch : IStepperFactory
{
    /// <summary>Creates the pair.</summary>
    /// <param name="nonStiff">The explicit method: adaptive, first-same-as-last, its last two stages at t + h (default Tsitouras 5(4)).</param>
    /// <param name="stiff">The stiff method (default <c>new Rosenbrock(RosenbrockTableaus.Rodas5P)</c>).</param>
    public AutoSwitch(ButcherTableau? nonStiff = null, IStepperFactory? stiff = null)
    {
        nonStiff ??= Tableaus.Tsitouras54;
        int s = nonStiff.Stages;
        if (!nonStiff.HasErrorEstimate || !nonStiff.IsFsal || s < 3 || nonStiff.C[s - 2] != 1)
            throw new ArgumentException($"{nonStiff.Name} cannot detect stiffness: AutoSwitch needs an adaptive first-same-as-last method whose last two stages sit at t + h, such as Dormand–Prince 5(4) or Tsitouras 5(4).", nameof(nonStiff));
        if (stiff is AutoSwitch) throw new ArgumentException("The stiff method cannot itself be an AutoSwitch.", nameof(stiff));
        NonStiff = nonStiff;
        Stiff = stiff ?? new Rosenbrock(RosenbrockTableaus.Rodas5P);
    }

    /// <summary>The explicit method.</summary>
    public ButcherTableau NonStiff { get; }

    /// <summary>The stiff method.</summary>
    public IStepperFactory Stiff { get; }

    /// <inheritdoc />
    public IStepper<T> Create<T>(int dimension)
        where T : unmanaged, IFloatingPointIeee754<T> => Create<T>(dimension, new StepperTolerances([1e-9], [1e-6]));

    /// <inheritdoc />
    public IStepper<T> Create<T>(int dimension, StepperTolerances tolerances)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        var stiff = Stiff.Create<T>(dimension, tolerances);
        if (stiff.Dimension != dimension || stiff.OutputDimension != dimension)
            throw new ArgumentException($"The stiff method ({Stiff}) made a stepper of dimension {stiff.Dimension} for {dimension}.", nameof(dimension));
        return new AutoSwitchStepper<T>(new ExplicitRungeKutta<T>(NonStiff, dimension), stiff);
    }

    /// <inheritdoc />
    public override string ToString() => $"AutoSwitch({NonStiff.Name}, {Stiff})";
}
