using System.Numerics;
using NeuralOde.AutoDiff;

namespace NeuralOde.Core.Dynamics;

/// <summary>
/// Differentiable dynamics with their exact Jacobian, row by row from vector–Jacobian products (reverse mode): D
/// products per Jacobian for R independent rows of D components (a cotangent e_i in every row gives row i of every
/// block), n otherwise. Everything else is the wrapped dynamics'. Wrap a neural network's dynamics with it to give a
/// stiff stepper the Jacobian from the tape: <c>new ExactJacobian&lt;float&gt;(mlp)</c>.
/// </summary>
/// <typeparam name="T">The state's element type.</typeparam>
/// <remarks>A Jacobian allocates nothing once the first has been made. Not thread-safe.</remarks>
public sealed class ExactJacobian<T> : IDifferentiableDynamics<T>, IJacobianDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IDifferentiableDynamics<T> inner;
    private readonly T[] cotangent, gradY, gradTheta;

    /// <summary>Wraps <paramref name="dynamics"/>.</summary>
    /// <param name="dynamics">The dynamics whose vector–Jacobian products give the rows.</param>
    public ExactJacobian(IDifferentiableDynamics<T> dynamics)
    {
        ArgumentNullException.ThrowIfNull(dynamics);
        inner = dynamics;
        cotangent = new T[dynamics.Dimension];
        gradY = new T[dynamics.Dimension];
        gradTheta = new T[dynamics.Parameters.Length];
    }

    /// <summary>Whether this wraps <paramref name="dynamics"/> itself (or is it).</summary>
    internal bool Wraps(IDifferentiableDynamics<T> dynamics) => ReferenceEquals(inner, dynamics) || ReferenceEquals(this, dynamics);

    /// <inheritdoc/>
    public int Dimension => inner.Dimension;

    /// <inheritdoc/>
    public ParameterSet<T> Parameters => inner.Parameters;

    /// <inheritdoc/>
    public int IndependentRows => inner.IndependentRows;

    /// <inheritdoc/>
    public bool IsAutonomous => inner.IsAutonomous;

    /// <inheritdoc/>
    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt) => inner.Evaluate(t, y, dydt);

    /// <inheritdoc/>
    public void Vjp(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> cotangent, Span<T> gradY, Span<T> gradTheta) =>
        inner.Vjp(t, y, cotangent, gradY, gradTheta);

    /// <inheritdoc/>
    public void EvaluateAndVjp(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> cotangent, Span<T> dydt, Span<T> gradY, Span<T> gradTheta) =>
        inner.EvaluateAndVjp(t, y, cotangent, dydt, gradY, gradTheta);

    /// <inheritdoc/>
    public Var<T> Record(Tape<T> tape, double t, Var<T> y) => inner.Record(tape, t, y);

    /// <inheritdoc/>
    public void Jacobian(double t, ReadOnlySpan<T> y, Span<double> jacobian)
    {
        int n = Dimension, rows = JacobianBlocks.Count(n, IndependentRows), d = n / rows;
        for (int i = 0; i < d; i++)
        {
            cotangent.AsSpan().Clear();
            for (int r = 0; r < rows; r++) cotangent[r * d + i] = T.One;
            inner.Vjp(t, y, cotangent, gradY, gradTheta);
            // gradY = Jᵀ·cotangent: in block r, component j holds ∂f_{r,i}/∂y_{r,j}, row i of block r.
            for (int r = 0; r < rows; r++)
            {
                int block = r * d * d;
                for (int j = 0; j < d; j++) jacobian[block + i * d + j] = double.CreateTruncating(gradY[r * d + j]);
            }
        }
    }
}
