using System.Numerics;

namespace NeuralOde.Core.Dynamics;

/// <summary>
/// Dynamics that give their own Jacobian ∂f/∂y, which the stiff steppers (Rosenbrock, ESDIRK) then use instead of
/// forward differences: exact, and without the D evaluations of f a difference quotient costs.
/// </summary>
/// <typeparam name="T">The state's element type.</typeparam>
/// <remarks>
/// The layout is block-diagonal when the dynamics are also <see cref="IDifferentiableDynamics{T}"/> with
/// <see cref="IDifferentiableDynamics{T}.IndependentRows"/> R &gt; 1 (R blocks of D × D, block r at r·D², each
/// row-major), and one dense row-major n × n matrix otherwise. ∂f/∂t, which Rosenbrock methods need, is still taken by
/// a forward difference (one evaluation) unless the dynamics are also <see cref="ITimeDerivativeDynamics{T}"/>. The Jacobian's own work is not counted in the function evaluations (its calls
/// are <see cref="SolveStats.JacobianEvaluations"/>). <see cref="ExactJacobian{T}"/> builds one from the vector–Jacobian products of
/// any differentiable dynamics.
/// </remarks>
public interface IJacobianDynamics<T> : IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Writes ∂f/∂y at (t, y) into <paramref name="jacobian"/> (every entry: the span is not cleared first).</summary>
    /// <param name="t">The time.</param>
    /// <param name="y">The state.</param>
    /// <param name="jacobian">The Jacobian's blocks (see the remarks for the layout).</param>
    void Jacobian(double t, ReadOnlySpan<T> y, Span<double> jacobian);
}
