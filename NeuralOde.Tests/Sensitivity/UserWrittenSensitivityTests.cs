using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NUnit.Framework;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>A gradient strategy written outside the library, through its public API only, plugs into OdeLayer.</summary>
public class UserWrittenSensitivityTests
{
    private const int Batch = 4, Width = 2, NetworkSeed = 11;

    [Test]
    public void UserWrittenDiscreteEulerAdjoint_ThroughOdeLayer_AgreesWithBackpropThroughEuler()
    {
        const double h = 0.05;
        var options = new SolveOptions { Method = Tableaus.Euler, StepSize = new FixedStep(h) };
        var (lossMine, gradMine, gradY0Mine) = LossAndGradients(new DiscreteEulerAdjoint(h), options);
        var (lossBackprop, gradBackprop, gradY0Backprop) = LossAndGradients(new Backprop(), options);

        Assert.That(lossMine, Is.EqualTo(lossBackprop).Within(1e-13).Percent, "the same Euler steps forward");
        double scale = gradBackprop.Max(Math.Abs);
        for (int i = 0; i < gradBackprop.Length; i++)
            Assert.That(gradMine[i], Is.EqualTo(gradBackprop[i]).Within(1e-11 * scale), $"dL/dθ[{i}]");
        for (int i = 0; i < gradY0Backprop.Length; i++)
            Assert.That(gradY0Mine[i], Is.EqualTo(gradY0Backprop[i]).Within(1e-11), $"dL/dy0[{i}]");
    }

    private static (double Loss, double[] GradTheta, double[] GradY0) LossAndGradients(ISensitivity sensitivity, SolveOptions options)
    {
        var f = new MlpDynamics<double>(Mlp.Create<double>(Width, [16], Width, Activation.Tanh, TimeInput.Concat, NetworkSeed), Batch);
        var tape = new Tape<double>();
        double[] y0 = [.. Enumerable.Range(0, Batch * Width).Select(i => Math.Sin(1.7 * i) * 0.8)];
        var x = tape.Variable(y0, new Shape(Batch, Width));
        var solve = OdeLayer.Solve(tape, f, x, SaveAt.End(0, 1), options, sensitivity);
        var loss = Ops.Sum(Ops.Square(solve.Final));
        f.Parameters.ZeroGradients();
        tape.Backward(loss);
        return (loss.Value[0], f.Parameters.Gradients.ToArray(), x.Gradient.ToArray());
    }

    /// <summary>
    /// The exact gradient of explicit Euler on the grid t_k = t0 + k·h: y_{k+1} = y_k + h·f(t_k, y_k), so
    /// a_k = a_{k+1} + h·a_{k+1}ᵀ∂f/∂y(t_k, y_k) and dL/dθ += h·a_{k+1}ᵀ∂f/∂θ(t_k, y_k). Keeps every y_k.
    /// </summary>
    private sealed class DiscreteEulerAdjoint(double h) : ISensitivity
    {
        public ISolveGradient<T> CreateSolveGradient<T>(Shape stateShape)
            where T : unmanaged, IFloatingPointIeee754<T> => new Gradient<T>(h);

        private sealed class Gradient<T>(double h) : ISolveGradient<T>
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            private IDifferentiableDynamics<T>? f;
            private T[] states = [];
            private double t0;
            private int steps;

            public SolveStats Forward(IDifferentiableDynamics<T> f, ReadOnlySpan<T> y0, SaveAt saveAt, SolveOptions options, Span<T> output)
            {
                if (saveAt.Count != 1) throw new NotSupportedException("This example strategy saves only the end state.");
                this.f = f;
                int n = f.Dimension;
                t0 = saveAt.AllTimes[0];
                steps = (int)Math.Round((saveAt.AllTimes[^1] - t0) / h);
                if (states.Length != (steps + 1) * n) states = new T[(steps + 1) * n];
                y0.CopyTo(states);
                var dydt = new T[n];
                for (int k = 0; k < steps; k++)
                {
                    f.Evaluate(t0 + k * h, states.AsSpan(k * n, n), dydt);
                    for (int i = 0; i < n; i++) states[(k + 1) * n + i] = states[k * n + i] + T.CreateTruncating(h) * dydt[i];
                }
                states.AsSpan(steps * n, n).CopyTo(output);
                return new SolveStats(steps, steps, 0, h, h);
            }

            public GradientStats Backward(ReadOnlySpan<T> outputCotangent, Span<T> gradY0, Span<T> gradTheta, Span<double> gradTimes)
            {
                int n = f!.Dimension;
                var a = outputCotangent.ToArray();
                var gradY = new T[n];
                var stepTheta = new T[gradTheta.Length];
                for (int k = steps - 1; k >= 0; k--)
                {
                    f.Vjp(t0 + k * h, states.AsSpan(k * n, n), a, gradY, stepTheta);
                    for (int i = 0; i < n; i++) a[i] += T.CreateTruncating(h) * gradY[i];
                    for (int i = 0; i < stepTheta.Length; i++) gradTheta[i] += T.CreateTruncating(h) * stepTheta[i];
                }
                a.CopyTo(gradY0);
                gradTimes.Clear();
                return new GradientStats(0, steps, 0, steps);
            }
        }
    }
}
