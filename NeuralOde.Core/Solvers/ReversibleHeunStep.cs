using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// One step of the reversible Heun method (see <see cref="ReversibleHeun{T}"/>) as a stepper over the state
/// [y, ŷ, f] with f = F(t, ŷ) carried from step to step: ŷ' = 2y − ŷ + h·f, f' = F(t', ŷ'), y' = y + (h/2)(f + f'),
/// one evaluation per step. The step runs exactly from <see cref="StepInput.Time"/> to <see cref="StepInput.EndTime"/>
/// (h = t' − t), so the reverse pass, <see cref="StepBackward"/>, given the same two times inverts it.
/// </summary>
internal sealed class ReversibleHeunStep<T> : IStepper<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int n;
    private readonly T[] scratch;
    private readonly T[] initialDerivative;

    public ReversibleHeunStep(int n)
    {
        this.n = n;
        scratch = new T[n];
        initialDerivative = new T[n];
    }

    public int Dimension => 3 * n;

    public int OutputDimension => n;

    public int ControllerOrder => 2;

    public bool HasErrorEstimate => false;

    public bool TakesStartDerivative => false;

    public bool ProvidesEndDerivative => false;

    public bool HasInterpolation => false;

    public long FunctionEvaluations { get; set; }

    public ReadOnlySpan<T> StartDerivative => default;

    public ReadOnlySpan<T> EndDerivative => default;

    /// <summary>F(t0, y0) of the last <see cref="InitializeState"/>.</summary>
    public ReadOnlySpan<T> InitialDerivative => initialDerivative;

    /// <summary>(y0, ŷ0 = y0, f0 = F(t0, y0)).</summary>
    public void InitializeState(IDynamics<T> f, double t0, ReadOnlySpan<T> y0, Span<T> state)
    {
        y0.CopyTo(state[..n]);
        y0.CopyTo(state.Slice(n, n));
        f.Evaluate(t0, y0, state[(2 * n)..]);
        FunctionEvaluations++;
        state[(2 * n)..].CopyTo(initialDerivative);
    }

    public StepOutcome Step(IDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0, Span<T> y1, Span<T> error)
    {
        T h = T.CreateTruncating(input.EndTime - input.Time);
        T half = h / (T.One + T.One);
        ReadOnlySpan<T> y = y0[..n], yHat = y0.Slice(n, n), fHat = y0[(2 * n)..];
        Span<T> yNew = y1[..n], yHatNew = y1.Slice(n, n), fNew = y1[(2 * n)..];
        // ŷ' = 2y − ŷ + h·f
        TensorPrimitives.Add(y, y, scratch);
        TensorPrimitives.Subtract(scratch, yHat, scratch);
        TensorPrimitives.MultiplyAdd(fHat, h, scratch, yHatNew);
        // y' = (y + (h/2)·f) + (h/2)·f'
        TensorPrimitives.MultiplyAdd(fHat, half, y, yNew);
        f.Evaluate(input.EndTime, yHatNew, fNew);
        FunctionEvaluations++;
        TensorPrimitives.MultiplyAdd(fNew, half, yNew, yNew);
        return new StepOutcome(1, false, false);
    }

    /// <summary>
    /// The reverse step from (tb, y, ŷ, f) back to ta, in place: ŷ = 2y' − ŷ' − h·f', f = F(ta, ŷ), y = y' − (h/2)(f' + f),
    /// the algebraic inverse of <see cref="Step"/>. Returns false when the reconstructed state is not finite.
    /// </summary>
    public bool StepBackward(IDynamics<T> f, double ta, double tb, Span<T> state)
    {
        T h = T.CreateTruncating(tb - ta);
        T half = h / (T.One + T.One);
        Span<T> y = state[..n], yHat = state.Slice(n, n), fHat = state[(2 * n)..];
        TensorPrimitives.Add(y, y, scratch);
        TensorPrimitives.Subtract(scratch, yHat, scratch);
        TensorPrimitives.MultiplyAdd(fHat, -h, scratch, yHat);
        TensorPrimitives.MultiplyAdd(fHat, -half, y, y);
        f.Evaluate(ta, yHat, fHat);
        FunctionEvaluations++;
        TensorPrimitives.MultiplyAdd(fHat, -half, y, y);
        return FiniteState.All(state);
    }

    public void Interpolate(ReadOnlySpan<T> y0, double h, double theta, Span<T> destination) =>
        throw new NotSupportedException("The reversible Heun method has no continuous extension: the loop lands on every saved time.");
}
