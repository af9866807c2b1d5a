using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// McCallum and Foster's reversible coupling of an explicit Runge–Kutta method as a stepper over the state [y, z]:
/// <c>y1 = λ(y0 − z0) + Φ(t → t1, z0)</c>, <c>z1 = y1 + z0 − Φ(t1 → t, y1)</c>, with Φ the base method's step and
/// the solution y (see <see cref="Sensitivity.ReversibleRungeKutta"/>). Both start at y0.
/// </summary>
/// <remarks>
/// The step runs exactly from <see cref="StepInput.Time"/> to <see cref="StepInput.EndTime"/> (h = t1 − t), so a
/// backward pass that knows the step's two times reconstructs it bit for bit. The error estimate is the base method's
/// embedded estimate of the backward step Φ(t1 → t, y1); a non-finite y1 or z1 makes it NaN, so the controller rejects.
/// </remarks>
internal sealed class ReversibleCoupling<T> : IStepper<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ExplicitRungeKutta<T> engine;
    private readonly T lambda;
    private readonly int n;
    private readonly T[] stepped;

    public ReversibleCoupling(ExplicitRungeKutta<T> engine, double coupling)
    {
        this.engine = engine;
        lambda = T.CreateTruncating(coupling);
        n = engine.Dimension;
        stepped = new T[n];
    }

    /// <summary>The base method's stepper.</summary>
    public ExplicitRungeKutta<T> Engine => engine;

    public int Dimension => 2 * n;

    public int OutputDimension => n;

    public int ControllerOrder => engine.ControllerOrder;

    public bool HasErrorEstimate => engine.HasErrorEstimate;

    public bool TakesStartDerivative => false;

    public bool ProvidesEndDerivative => false;

    public bool HasInterpolation => false;

    public long FunctionEvaluations
    {
        get => engine.FunctionEvaluations;
        set => engine.FunctionEvaluations = value;
    }

    public ReadOnlySpan<T> StartDerivative => default;

    public ReadOnlySpan<T> EndDerivative => default;

    public void InitializeState(IDynamics<T> f, double t0, ReadOnlySpan<T> y0, Span<T> state)
    {
        y0.CopyTo(state[..n]);
        y0.CopyTo(state[n..]);
    }

    public StepOutcome Step(IDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0, Span<T> y1, Span<T> error)
    {
        long before = engine.FunctionEvaluations;
        double t = input.Time, tNew = input.EndTime, step = tNew - t;
        ReadOnlySpan<T> y = y0[..n], z = y0[n..];
        Span<T> yNew = y1[..n], zNew = y1[n..];
        engine.Step(f, t, step, z, default, stepped, default);
        for (int i = 0; i < n; i++) yNew[i] = lambda * (y[i] - z[i]) + stepped[i];
        engine.Step(f, tNew, -step, yNew, default, stepped, error);
        for (int i = 0; i < n; i++) zNew[i] = yNew[i] + z[i] - stepped[i];
        if (!error.IsEmpty && !FiniteState.All(y1)) error.Fill(T.NaN);
        return new StepOutcome((int)(engine.FunctionEvaluations - before), false, false);
    }

    public void Interpolate(ReadOnlySpan<T> y0, double h, double theta, Span<T> destination) =>
        throw new NotSupportedException("The reversible coupling has no continuous extension: the loop lands on every saved time.");
}
