using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>Budgeted checkpointing holds and allocates the same whatever the step count, and keeps the exact gradient.</summary>
/// <remarks>Step counts stay at most Budget², where recomputing a segment is linear (beyond it each step is recomputed from its checkpoint).</remarks>
public class CheckpointedMemoryTests
{
    private const int NetworkSeed = 17;
    private const int Batch = 3;
    private const int Budget = 32;
    private static readonly double[] InitialState = [0.4, -0.2, 0.9, 0.1, -0.6, 0.8];

    private static MlpDynamics<double> Network() =>
        new(Mlp.Create<double>(2, [8], 2, Activation.Tanh, TimeInput.None, NetworkSeed), Batch);

    /// <summary>One forward and backward of sum(y(1)) through <paramref name="steps"/> fixed RK4 steps (the last clipped).</summary>
    private static void ForwardBackward(CheckpointedGradient<double> gradient, MlpDynamics<double> f, int steps)
    {
        var output = new double[InitialState.Length];
        var options = new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(1.0 / (steps - 0.5)) };
        var stats = gradient.Forward(f, InitialState, SaveAt.End(0, 1), options, output);
        Assert.That(stats.AcceptedSteps, Is.EqualTo(steps));
        var cotangent = new double[InitialState.Length];
        cotangent.AsSpan().Fill(1);
        gradient.Backward(cotangent, new double[InitialState.Length], new double[f.Parameters.Length], default);
    }

    [Test]
    public void CheckpointedWithBudget_StoreBytesDoNotGrowWithTheStepCount()
    {
        var f = Network();
        var budgeted = new CheckpointedGradient<double>(new Shape(Batch, 2), Budget);
        ForwardBackward(budgeted, f, 100);
        long few = budgeted.StoreBytes;
        ForwardBackward(budgeted, f, 1000);
        long many = budgeted.StoreBytes;
        TestContext.Out.WriteLine($"budget {Budget}: {few} bytes at 100 steps, {many} at 1000");
        Assert.That(many, Is.EqualTo(few));
        // k states and k cached states, with a step (32 B), an index and a time each, and a log of a few 24-byte runs.
        long bound = 2L * Budget * InitialState.Length * sizeof(double) + Budget * (32 + sizeof(int) + sizeof(double)) + 256;
        Assert.That(many, Is.LessThanOrEqualTo(bound));

        // The measure does see per-step storage: without a budget every step's state is kept.
        var unbudgeted = new CheckpointedGradient<double>(new Shape(Batch, 2), budget: null);
        ForwardBackward(unbudgeted, f, 1000);
        Assert.That(unbudgeted.StoreBytes, Is.GreaterThanOrEqualTo(1000L * InitialState.Length * sizeof(double)));
    }

    [Test]
    public void CheckpointedWithBudget_AllocatesTheSameForTenTimesTheSteps()
    {
        var f = Network();
        var gradient = new CheckpointedGradient<double>(new Shape(Batch, 2), Budget);
        ForwardBackward(gradient, f, 100); // warm-up: more steps than the budget, so segments are recomputed
        long atHundred = AllocationWindows.Quietest(() => ForwardBackward(gradient, f, 100), windows: 4);
        long atThousand = AllocationWindows.Quietest(() => ForwardBackward(gradient, f, 1000), windows: 4);
        TestContext.Out.WriteLine($"allocated: {atHundred} bytes at 100 steps, {atThousand} at 1000");
        Assert.That(atThousand, Is.EqualTo(atHundred));
    }

    /// <summary>Jumps (end stages before the step end), interior outputs and a clipped last step, replayed from the step log.</summary>
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(null)]
    public void Checkpointed_EqualsBackpropToRoundOff_WithJumpsInteriorOutputsAndAClippedLastStep(int? budget)
    {
        // f doubles at the jump, so a step landing on it must evaluate its c = 1 stages just before it, as the forward did.
        var f = new DoublesAt(Network(), Jump);
        var options = new SolveOptions
        {
            Method = Tableaus.ThreeEighths,
            StepSize = new FixedStep(0.013),
            JumpTimes = [Jump],
            StepToTimes = [0.4501],
        };
        double[] times = [0.0, 0.3337, 0.75, 1.0];
        var (backpropY0, backpropTheta) = Gradients(f, options, times, new Backprop());
        var (y0, theta) = Gradients(f, options, times, new Checkpointed { Budget = budget });
        AssertClose(y0, backpropY0);
        AssertClose(theta, backpropTheta);
    }

    private const double Jump = 0.6101;

    private static (double[] GradY0, double[] GradTheta) Gradients(DoublesAt f, SolveOptions options, double[] times, ISensitivity sensitivity)
    {
        var tape = new Tape<double>();
        f.Parameters.ZeroGradients();
        var y0 = tape.Variable(InitialState, new Shape(Batch, 2));
        var solve = OdeLayer.Solve(tape, f, y0, SaveAt.Times(times), options, sensitivity);
        var w = new double[solve.States.Shape.Length];
        for (int i = 0; i < w.Length; i++) w[i] = Math.Cos(0.9 * i + 0.2);
        tape.Backward(solve.States, w, GradientSink<double>.ParameterGradients);
        return (y0.Gradient.ToArray(), f.Parameters.Gradients.ToArray());
    }

    /// <summary>f(t, y) = g(y) before <paramref name="jump"/> and 2·g(y) from it on.</summary>
    private sealed class DoublesAt(MlpDynamics<double> g, double jump) : IDifferentiableDynamics<double>
    {
        public int Dimension => g.Dimension;

        public ParameterSet<double> Parameters => g.Parameters;

        private double Factor(double t) => t < jump ? 1 : 2;

        public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> dydt)
        {
            g.Evaluate(t, y, dydt);
            foreach (ref double v in dydt) v *= Factor(t);
        }

        public void Vjp(double t, ReadOnlySpan<double> y, ReadOnlySpan<double> cotangent, Span<double> gradY, Span<double> gradTheta)
        {
            var scaled = new double[cotangent.Length];
            for (int i = 0; i < scaled.Length; i++) scaled[i] = Factor(t) * cotangent[i];
            g.Vjp(t, y, scaled, gradY, gradTheta);
        }

        public Var<double> Record(Tape<double> tape, double t, Var<double> y) => Ops.Scale(g.Record(tape, t, y), Factor(t));
    }

    private static void AssertClose(double[] actual, double[] expected)
    {
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-12 * scale), $"element {i}");
    }
}
