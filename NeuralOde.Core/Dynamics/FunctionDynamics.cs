using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.Core.Dynamics;

/// <summary>A right-hand side written as a lambda: writes f(t, y) into <paramref name="dydt"/>, called once per evaluation of f (not per element).</summary>
/// <typeparam name="T">The state's element type.</typeparam>
/// <param name="t">The time.</param>
/// <param name="y">The state.</param>
/// <param name="dydt">The destination, as long as <paramref name="y"/>.</param>
/// <example><c>Ode.Solve((t, y, dy) =&gt; dy[0] = -k * (y[0] - ambient), [90.0], SaveAt.Times(0, 5, 10))</c></example>
public delegate void OdeFunction<T>(double t, ReadOnlySpan<T> y, Span<T> dydt)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>A differentiable right-hand side written as a lambda: records f(t, y) on <paramref name="tape"/> with the ops of <see cref="Ops"/> and returns its node.</summary>
/// <typeparam name="T">The element type.</typeparam>
/// <param name="tape">The tape to record on (the solver's own, or a private one for evaluations and VJPs).</param>
/// <param name="t">The time.</param>
/// <param name="y">The state, in the layout given to <see cref="TapeFunctionDynamics{T}"/>.</param>
/// <returns>f(t, y), of <paramref name="y"/>'s shape.</returns>
public delegate Var<T> TapeOdeFunction<T>(Tape<T> tape, double t, Var<T> y)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>Plain dynamics from an <see cref="OdeFunction{T}"/>: the delegate is called once per evaluation, so a lambda that allocates nothing makes a solve that allocates nothing per step.</summary>
/// <typeparam name="T">The state's element type.</typeparam>
/// <example>
/// <code>
/// double k = 0.3, ambient = 20;
/// var cooling = new FunctionDynamics&lt;double&gt;(1, (t, y, dy) =&gt; dy[0] = -k * (y[0] - ambient));
/// var solution = Ode.Solve(cooling, [90.0], SaveAt.Times(0, 5, 10));
/// </code>
/// </example>
public sealed class FunctionDynamics<T> : IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly OdeFunction<T> function;

    /// <summary>Wraps <paramref name="function"/> as dynamics of <paramref name="dimension"/> state elements.</summary>
    /// <param name="dimension">The length of y and dy/dt.</param>
    /// <param name="function">f(t, y) written into dy/dt.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    public FunctionDynamics(int dimension, OdeFunction<T> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        Dimension = dimension;
        this.function = function;
    }

    /// <inheritdoc/>
    public int Dimension { get; }

    /// <inheritdoc/>
    /// <remarks>Set it when the function ignores t: <c>new FunctionDynamics&lt;double&gt;(3, rhs) { IsAutonomous = true }</c>.</remarks>
    public bool IsAutonomous { get; init; }

    /// <inheritdoc/>
    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt) => function(t, y, dydt);
}

/// <summary>
/// Differentiable dynamics from a <see cref="TapeOdeFunction{T}"/> and the parameters it reads: usable with
/// <see cref="Sensitivity.OdeLayer"/>, every gradient strategy and <see cref="Sensitivity.GradientAudit"/>. Plain evaluations and
/// vector–Jacobian products replay the function on a private tape reset per call (see <see cref="TapeDynamics{T}"/>),
/// so after the first call neither allocates.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>Every parameter the function records with <see cref="Tape{T}.Parameter"/> must belong to <see cref="IDifferentiableDynamics{T}.Parameters"/>, or its gradient is not routed to the sink a strategy asks for.</remarks>
/// <example>
/// <code>
/// var parameters = new ParameterSet&lt;double&gt;(); var k = parameters.Add("k", Shape.Scalar); k.Value[0] = 0.3;
/// var cooling = new TapeFunctionDynamics&lt;double&gt;(parameters, new Shape(1, 1),
///     (tape, t, y) =&gt; Ops.Negate(Ops.Multiply(tape.Parameter(k), Ops.AddScalar(y, -20.0))));
/// var solve = OdeLayer.Solve(tape, cooling, tape.Constant([90.0], new Shape(1, 1)), SaveAt.End(0, 10), options, new Adjoint());
/// </code>
/// </example>
public sealed class TapeFunctionDynamics<T> : TapeDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly TapeOdeFunction<T> function;

    /// <summary>Wraps <paramref name="function"/> as dynamics over states of <paramref name="stateShape"/> with parameters <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The parameters θ the function records (an empty set for none).</param>
    /// <param name="stateShape">The state's layout, e.g. 1 × D, or B × D for a batch.</param>
    /// <param name="function">f(t, y) recorded on a tape.</param>
    public TapeFunctionDynamics(ParameterSet<T> parameters, Shape stateShape, TapeOdeFunction<T> function)
        : base(parameters, stateShape)
    {
        ArgumentNullException.ThrowIfNull(function);
        this.function = function;
    }

    /// <inheritdoc/>
    public override Var<T> Record(Tape<T> tape, double t, Var<T> y) => function(tape, t, y);
}
