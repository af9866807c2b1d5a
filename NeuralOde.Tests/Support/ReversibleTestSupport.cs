using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Solvers;

namespace NeuralOde.Tests.Support;

/// <summary>
/// Linear, time-forced dynamics f(t, y) = y·W + sin(t)·b for one row y of width D (so A = Wᵀ), with θ = [W, b]:
/// small enough to check by hand, non-autonomous so step times matter, and conservative when W is skew.
/// </summary>
public sealed class ReversibleLinearDynamics : IDifferentiableDynamics<double>
{
    private readonly Parameter<double> weight;
    private readonly Parameter<double> bias;

    /// <param name="weight">W, row-major D × D.</param>
    /// <param name="forcing">b, of length D (zeros for autonomous dynamics).</param>
    public ReversibleLinearDynamics(double[] weight, double[] forcing)
    {
        Dimension = forcing.Length;
        Parameters = new ParameterSet<double>();
        this.weight = Parameters.Add("W", new Shape(Dimension, Dimension));
        bias = Parameters.Add("b", new Shape(1, Dimension));
        weight.CopyTo(this.weight.Value);
        forcing.CopyTo(bias.Value);
    }

    /// <summary>The harmonic oscillator y' = (v, −x).</summary>
    public static ReversibleLinearDynamics Oscillator() => new([0, -1, 1, 0], [0, 0]);

    public int Dimension { get; }

    public ParameterSet<double> Parameters { get; }

    public Shape StateShape => new(1, Dimension);

    public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> dydt)
    {
        ReadOnlySpan<double> w = weight.Value, b = bias.Value;
        double s = Math.Sin(t);
        for (int i = 0; i < Dimension; i++)
        {
            double sum = s * b[i];
            for (int j = 0; j < Dimension; j++) sum += y[j] * w[j * Dimension + i];
            dydt[i] = sum;
        }
    }

    public void Vjp(double t, ReadOnlySpan<double> y, ReadOnlySpan<double> cotangent, Span<double> gradY, Span<double> gradTheta)
    {
        ReadOnlySpan<double> w = weight.Value;
        int n = Dimension;
        for (int j = 0; j < n; j++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += w[j * n + i] * cotangent[i];
                gradTheta[weight.Offset + j * n + i] = y[j] * cotangent[i];
            }
            gradY[j] = sum;
        }
        double s = Math.Sin(t);
        for (int i = 0; i < n; i++) gradTheta[bias.Offset + i] = s * cotangent[i];
    }

    public Var<double> Record(Tape<double> tape, double t, Var<double> y) =>
        Ops.MatMul(y, tape.Parameter(weight)) + Ops.Scale(tape.Parameter(bias), Math.Sin(t));
}

/// <summary>
/// The reference the Reversible gradient is held to: every reversible Heun step recorded on a tape (f.Record for each
/// evaluation, the update as Ops) and one reverse sweep. Memory grows with the steps; independent of the reconstruction.
/// </summary>
public static class ReversibleTapeReference
{
    /// <summary>L = Σ_rows ⟨cotangent_row, y(t_row)⟩ over the saved states; returns dL/dy0 and dL/dθ (and L).</summary>
    internal static (double[] GradY0, double[] GradTheta, double Loss) Gradient(
        IDifferentiableDynamics<double> f, Shape stateShape, double[] y0, ReversibleSchedule schedule, int firstSaved, double[] cotangent)
    {
        int n = f.Dimension;
        var tape = new Tape<double>();
        f.Parameters.ZeroGradients();
        var y = tape.Variable(y0, stateShape);
        var y0Var = y;
        var yHat = y;
        var fHat = f.Record(tape, schedule.Times[0], yHat);
        Var<double>? loss = null;
        void AddOutput(Var<double> state, int row)
        {
            var term = Ops.Sum(Ops.Multiply(state, tape.Constant(cotangent.AsSpan(row * n, n), stateShape)));
            loss = loss is { } l ? l + term : term;
        }
        if (firstSaved == 0) AddOutput(y, 0);
        for (int k = 0; k + 1 < schedule.Times.Length; k++)
        {
            for (int j = 0; j < schedule.StepCounts[k]; j++)
            {
                double ta = schedule.StepTime(k, j), tb = schedule.StepTime(k, j + 1), h = tb - ta;
                var yHatNext = y * 2.0 - yHat + fHat * h;
                var fNext = f.Record(tape, tb, yHatNext);
                y = y + (fHat + fNext) * (h / 2);
                yHat = yHatNext;
                fHat = fNext;
            }
            int row = k + 1 - firstSaved;
            if (row >= 0) AddOutput(y, row);
        }
        var total = loss!.Value;
        tape.Backward(total);
        return (y0Var.Gradient.ToArray(), f.Parameters.Gradients.ToArray(), total.Value[0]);
    }
}
