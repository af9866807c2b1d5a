using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// What the Rosenbrock and ESDIRK steppers share: the linear algebra of a step's start (<see cref="LinearlyImplicitSystem{T}"/>),
/// the counters the loop reads from it, and the start derivative it evaluates or takes from the loop.
/// </summary>
internal abstract class LinearlyImplicitStepper<T> : IStepperStatistics, IJacobianBound
    where T : unmanaged, IFloatingPointIeee754<T>
{
    protected readonly int n;
    protected readonly LinearlyImplicitSystem<T> system;

    protected LinearlyImplicitStepper(int n)
    {
        this.n = n;
        system = new LinearlyImplicitSystem<T>(n);
    }

    public int Dimension => n;

    public int OutputDimension => n;

    public bool HasErrorEstimate => true;

    public bool TakesStartDerivative => true;

    public long FunctionEvaluations { get; set; }

    /// <summary>Jacobian evaluations (each n + 1 evaluations of f when differenced, counted in <see cref="FunctionEvaluations"/> too).</summary>
    public long JacobianEvaluations { get => system.JacobianEvaluations; set => system.JacobianEvaluations = value; }

    public long Factorizations { get => system.Factorizations; set => system.Factorizations = value; }

    public double JacobianNormBound => system.JacobianNormBound();

    public ReadOnlySpan<T> StartDerivative => system.F0;

    public void InitializeState(IDynamics<T> f, double t0, ReadOnlySpan<T> y0, Span<T> state)
    {
        system.Invalidate();
        y0.CopyTo(state);
    }
}
