using System.Numerics;

namespace NeuralOde.Core.Dynamics;

/// <summary>The right-hand side f(t, y) of an ordinary differential equation y' = f(t, y): what a solver calls.</summary>
/// <typeparam name="T">The state's element type, <see cref="float"/> or <see cref="double"/>.</typeparam>
/// <remarks>
/// The state is one flat span of <see cref="Dimension"/> elements (a batch of B states of width D is one row-major
/// B×D span). Time is always <see cref="double"/>, whatever <typeparamref name="T"/> is. Implementations write dy/dt
/// into the caller's buffer and allocate nothing.
/// </remarks>
public interface IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The number of state elements, the length of y and dy/dt.</summary>
    int Dimension { get; }

    /// <summary>Writes f(t, y) into <paramref name="dydt"/>.</summary>
    /// <param name="t">The time.</param>
    /// <param name="y">The state, of length <see cref="Dimension"/>.</param>
    /// <param name="dydt">The destination, of length <see cref="Dimension"/>.</param>
    void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt);

    /// <summary>
    /// Whether f ignores t (default false). Rosenbrock methods then take ∂f/∂t = 0 without the evaluation a difference
    /// in t costs (one a step), and a gradient through their steps skips the time term's two VJPs. The solve is bitwise
    /// the same (the difference in t of an autonomous f is exactly zero); a gradient differs only by the rounding of the
    /// two VJPs it no longer adds and subtracts.
    /// </summary>
    bool IsAutonomous => false;
}
