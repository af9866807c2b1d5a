using System.Numerics;

namespace NeuralOde.Core.Dynamics;

/// <summary>
/// Dynamics that give their own ∂f/∂t, which Rosenbrock methods then use instead of a forward difference in t: exact,
/// and one evaluation of f fewer per step (the time derivative SciML calls tgrad). Dynamics that ignore t need not
/// implement it: they declare <see cref="IDynamics{T}.IsAutonomous"/>.
/// </summary>
/// <typeparam name="T">The state's element type.</typeparam>
/// <remarks>
/// A forward difference in t carries a rounding error of about √ε relative (1e-8 in double): small for the solve, but
/// it makes the computed solution a slightly rough function of the parameters. Give the exact derivative when finite
/// differences of a Rosenbrock solve are compared with its gradient.
/// </remarks>
public interface ITimeDerivativeDynamics<T> : IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Writes ∂f/∂t at (t, y) into <paramref name="timeDerivative"/> (every entry).</summary>
    /// <param name="t">The time.</param>
    /// <param name="y">The state.</param>
    /// <param name="timeDerivative">Receives ∂f/∂t, of length <see cref="IDynamics{T}.Dimension"/>.</param>
    void TimeDerivative(double t, ReadOnlySpan<T> y, Span<double> timeDerivative);
}
