using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// The linear algebra every Rosenbrock step starts with: f(t, y0) (the loop's or evaluated), ∂f/∂y and ∂f/∂t by
/// forward differences, and I − hγJ factored once for all the step's stages, with the counters the loop reports.
/// </summary>
internal sealed class LinearlyImplicitSystem<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int n;
    private readonly DenseLu lu;
    private readonly FiniteDifferenceJacobian<T> derivatives;
    // The point the derivatives belong to: a step retried there after a rejection reuses them (only h changed).
    private readonly T[] preparedState;
    private double preparedTime;
    private bool prepared;

    public LinearlyImplicitSystem(int n)
    {
        this.n = n;
        lu = new DenseLu(n);
        derivatives = new FiniteDifferenceJacobian<T>(n);
        F0 = new T[n];
        preparedState = new T[n];
    }

    /// <summary>f(t, y0) of the last <see cref="Prepare"/>.</summary>
    public T[] F0 { get; }

    /// <summary>∂f/∂t of the last <see cref="Prepare"/>.</summary>
    public double[] TimeDerivative => derivatives.TimeDerivative;

    public long JacobianEvaluations { get; set; }

    public long Factorizations { get; set; }

    /// <summary>Forgets the point of the last derivatives: a new solve (other dynamics or parameters, perhaps) starts.</summary>
    public void Invalidate() => prepared = false;

    /// <summary>
    /// Prepares a step of size h from (t, y0) and returns the evaluations of f it made; <paramref name="factored"/> is
    /// false when I − hγJ is singular or not finite (the step is then rejected). A step retried from the same point
    /// after a rejection keeps f0, ∂f/∂y and ∂f/∂t and only refactors for the new h, as Hairer and Wanner's RODAS does.
    /// </summary>
    public int Prepare(IDynamics<T> f, double t, double h, double gamma, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0, out bool factored)
    {
        int evaluations = 0;
        if (!(prepared && t == preparedTime && y0.SequenceEqual(preparedState)))
        {
            if (!f0.IsEmpty) f0.CopyTo(F0);
            else
            {
                f.Evaluate(t, y0, F0);
                evaluations++;
            }
            evaluations += derivatives.Evaluate(f, t, h, y0, F0);
            JacobianEvaluations++;
            y0.CopyTo(preparedState);
            preparedTime = t;
            prepared = true;
        }

        double hg = h * gamma;
        double[] jacobian = derivatives.Jacobian;
        Span<double> w = lu.Matrix;
        for (int i = 0; i < n * n; i++) w[i] = -hg * jacobian[i];
        for (int i = 0; i < n; i++) w[i * n + i] += 1;
        Factorizations++;
        factored = lu.Factor();
        return evaluations;
    }

    /// <summary>Overwrites <paramref name="rhs"/> with (I − hγJ)⁻¹·rhs.</summary>
    public void Solve(Span<double> rhs) => lu.Solve(rhs);
}
