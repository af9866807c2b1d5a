using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Core;

/// <summary>How a solve runs: the method, the step-size controller, tolerances, norm and limits. Safe defaults throughout.</summary>
/// <remarks>
/// Time, step sizes and tolerances are <see cref="double"/> whatever the state type. The scaled error of component i is
/// err_i / (atol_i + rtol_i·max(|y0_i|, |y1_i|)), reduced by <see cref="Norm"/> to the error ratio; atol = 0 is legal,
/// and a component whose scale is then 0 counts as 0 if its error is 0 and +∞ otherwise (see <see cref="ErrorNorm"/>).
/// With atol = 0, rtol must be at least double's rounding unit 2^-52.
/// </remarks>
public sealed record SolveOptions
{
    private readonly ButcherTableau method = Tableaus.DormandPrince54;

    /// <summary>The Runge–Kutta method (default Dormand–Prince 5(4)).</summary>
    public ButcherTableau Method
    {
        get => method;
        init
        {
            method = value;
            MethodIsSet = true;
        }
    }

    /// <summary>Whether <see cref="Method"/> was set (even to the default tableau): a solver with a method of its own refuses a chosen one.</summary>
    internal bool MethodIsSet { get; private init; }

    /// <summary>
    /// A method of your own (see <see cref="IStepper{T}"/>), run by the same step loop instead of <see cref="Method"/>;
    /// null (the default) for <see cref="Method"/>. Backprop and Checkpointed need it to make
    /// <see cref="IDifferentiableStepper{T}"/>s, and then land on every saved time; the adjoint runs it on its
    /// augmented backward system too (unless <see cref="Sensitivity.Adjoint.Method"/> is set); the reversible strategies refuse it.
    /// </summary>
    public IStepperFactory? Stepper { get; init; }

    /// <summary>
    /// Whether Backprop and Checkpointed land on every saved time: with a <see cref="Stepper"/> of the user's, whose
    /// interpolation they have no transpose of, so each output is a step's end. The gradient audit replays the same grid.
    /// </summary>
    internal bool GradientsLandOnSavedTimes => Stepper is not null;

    /// <summary>The step-size controller (default an adaptive <see cref="PiController"/>; use <see cref="FixedStep"/> for a fixed step).</summary>
    public IStepSizeController StepSize { get; init; } = new PiController();

    /// <summary>rtol, the relative tolerance (default 1e-6); must be positive.</summary>
    public double RelativeTolerance { get; init; } = 1e-6;

    /// <summary>atol, the absolute tolerance (default 1e-9); must be non-negative.</summary>
    public double AbsoluteTolerance { get; init; } = 1e-9;

    /// <summary>Per-component rtol (length = state length), overriding <see cref="RelativeTolerance"/> when set.</summary>
    public IReadOnlyList<double>? RelativeTolerances { get; init; }

    /// <summary>Per-component atol (length = state length), overriding <see cref="AbsoluteTolerance"/> when set.</summary>
    public IReadOnlyList<double>? AbsoluteTolerances { get; init; }

    /// <summary>The error norm (default RMS over the whole state).</summary>
    public ErrorNorm Norm { get; init; } = ErrorNorm.Rms;

    /// <summary>The most steps (accepted plus rejected) a solve may attempt (default 100 000).</summary>
    public int MaxSteps { get; init; } = 100_000;

    /// <summary>
    /// When false (the default) the last step is clipped to end exactly at the last time. When true the solver steps
    /// past it and interpolates back, as torchdiffeq does.
    /// </summary>
    public bool StepPastEnd { get; init; }

    /// <summary>Times that steps must land on (kinks of f); the f evaluated there is still reused.</summary>
    public IReadOnlyList<double> StepToTimes { get; init; } = [];

    /// <summary>Times where f jumps (discontinuities): steps land on them and f is re-evaluated after them, never reused across.</summary>
    public IReadOnlyList<double> JumpTimes { get; init; } = [];

    /// <summary>Whether the solution keeps the list of accepted steps (time and size), so a backward pass can replay them exactly.</summary>
    public bool RecordSteps { get; init; }

    /// <summary>Whether the solution keeps a <see cref="DenseOutput.DenseInterpolant{T}"/> for the state at any time (memory grows with the steps).</summary>
    public bool DenseOutput { get; init; }

    /// <summary>Stage times computed as torchdiffeq does (see <see cref="ExplicitRungeKutta{T}.TorchdiffeqStageTimes"/>).</summary>
    public bool TorchdiffeqStageTimes { get; init; }

    /// <summary>
    /// The torchdiffeq-compatible preset: torchdiffeq 0.2.5's dopri5, i.e. Dormand–Prince 5(4) with Shampine's error
    /// estimate (<see cref="Tableaus.DormandPrinceShampine54"/>), its controller
    /// (<see cref="PiController.Torchdiffeq"/>), f(t0) reused in the initial-step probe, stepping past the last time and
    /// interpolating back, torchdiffeq's stage times, and its norm (RMS, or for a state made of blocks, the largest block RMS).
    /// </summary>
    /// <param name="relativeTolerance">rtol.</param>
    /// <param name="absoluteTolerance">atol.</param>
    /// <param name="blocks">The state's blocks (torchdiffeq's tuple components); none for a single tensor.</param>
    /// <returns>The options; function-evaluation counts are then comparable with torchdiffeq's.</returns>
    public static SolveOptions Torchdiffeq(double relativeTolerance, double absoluteTolerance, params StateBlock[] blocks) => new()
    {
        Method = Tableaus.DormandPrinceShampine54,
        StepSize = PiController.Torchdiffeq,
        RelativeTolerance = relativeTolerance,
        AbsoluteTolerance = absoluteTolerance,
        Norm = blocks is { Length: > 0 } ? ErrorNorm.BlockRms(blocks) : ErrorNorm.Rms,
        StepPastEnd = true,
        TorchdiffeqStageTimes = true,
    };

    /// <summary>The tolerances as a stepper sees them (<see cref="IStepperFactory.Create{T}(int, StepperTolerances)"/>).</summary>
    internal StepperTolerances StepperTolerances() =>
        new(AbsoluteTolerances is { } a ? [.. a] : [AbsoluteTolerance], RelativeTolerances is { } r ? [.. r] : [RelativeTolerance]);
}
