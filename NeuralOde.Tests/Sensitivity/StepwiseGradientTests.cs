using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>Backprop and Checkpointed give the exact gradient of the discrete solve: closed forms, finite differences, each other.</summary>
public class StepwiseGradientTests
{
    private const int NetworkSeed = 11;
    private const int Batch = 3;

    public static IEnumerable<TestCaseData> StepwiseStrategies()
    {
        yield return new TestCaseData(new Backprop()).SetArgDisplayNames("Backprop");
        yield return new TestCaseData(new Checkpointed()).SetArgDisplayNames("Checkpointed");
        yield return new TestCaseData(new Checkpointed { Budget = 3 }).SetArgDisplayNames("CheckpointedBudget3");
    }

    /// <summary>One solve node (same strategy, dynamics and shape) reused after its method changed from RK4 to Dormand–Prince, interior outputs on both.</summary>
    [TestCaseSource(nameof(StepwiseStrategies))]
    public void ReusedNode_AfterTheMethodChanges_GivesAFreshNodesGradients(ISensitivity sensitivity)
    {
        var f = new MlpDynamics<double>(Mlp.Create<double>(2, [8], 2, Activation.Tanh, TimeInput.Concat, NetworkSeed), Batch);
        var y0 = GradientCheck.Random(Batch * 2, 1);
        var tape = new Tape<double>();
        double[] Gradient(ISensitivity s, SolveOptions options)
        {
            tape.Reset();
            f.Parameters.ZeroGradients();
            var solve = OdeLayer.Solve(tape, f, tape.Constant(y0, new Shape(Batch, 2)), SaveAt.Times(0, 0.33, 1), options, s);
            tape.Backward(Ops.Sum(Ops.Square(solve.States)));
            return f.Parameters.Gradients.ToArray();
        }
        Gradient(sensitivity, new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(0.1) });
        var dormandPrince = new SolveOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-10 };
        var reused = Gradient(sensitivity, dormandPrince);
        var fresh = Gradient(sensitivity is Backprop ? new Backprop() : new Checkpointed { Budget = ((Checkpointed)sensitivity).Budget }, dormandPrince);
        Assert.That(reused, Is.EqualTo(fresh));
    }

    [TestCaseSource(nameof(StepwiseStrategies))]
    public void ScalarGrowth_GradientsMatchClosedForm(ISensitivity sensitivity)
    {
        const double theta = 0.7, z0 = 1.3, end = 1.5;
        var f = new ScalarGrowth(theta);
        var tape = new Tape<double>();
        var y0 = tape.Variable([z0], Shape.Scalar);
        var options = new SolveOptions { RelativeTolerance = 1e-11, AbsoluteTolerance = 1e-12 };
        var solve = OdeLayer.Solve(tape, f, y0, SaveAt.End(0, end), options, sensitivity);
        tape.Backward(Ops.Sum(solve.Final));
        double exp = Math.Exp(theta * end);
        Assert.That(solve.Final.Value[0], Is.EqualTo(z0 * exp).Within(1e-9));
        Assert.That(y0.Gradient[0], Is.EqualTo(exp).Within(1e-8 * exp));
        Assert.That(f.Theta.Gradient[0], Is.EqualTo(end * z0 * exp).Within(1e-8 * end * z0 * exp));
        Assert.That(f.Unused.Gradient[0], Is.EqualTo(0.0), "a parameter the loss does not depend on gets a zero gradient");
    }

    [TestCaseSource(nameof(StepwiseStrategies))]
    public void ScalarGrowth_TimeSpanGradientsMatchClosedForm(ISensitivity sensitivity)
    {
        const double theta = -0.4, z0 = 2.0, end = 1.25;
        var f = new ScalarGrowth(theta);
        var tape = new Tape<double>();
        var t0 = tape.Variable([0.0], Shape.Scalar);
        var t1 = tape.Variable([end], Shape.Scalar);
        var options = new SolveOptions { RelativeTolerance = 1e-11, AbsoluteTolerance = 1e-12 };
        var solve = OdeLayer.Solve(tape, f, tape.Constant([z0], Shape.Scalar), t0, t1, options, sensitivity);
        tape.Backward(Ops.Sum(solve.Final));
        double dLdT = theta * z0 * Math.Exp(theta * end);
        Assert.That(t1.Gradient[0], Is.EqualTo(dLdT).Within(1e-8 * Math.Abs(dLdT)));
        Assert.That(t0.Gradient[0], Is.EqualTo(-dLdT).Within(1e-8 * Math.Abs(dLdT)));
    }

    private static MlpDynamics<double> RandomNetwork() =>
        new(Mlp.Create<double>(2, [16, 16], 2, Activation.Tanh, TimeInput.Concat, NetworkSeed), Batch);

    private static readonly double[] InitialState = [0.5, -0.3, 1.1, 0.2, -0.7, 0.9];
    private static readonly double[] SaveTimes = [0.0, 0.33, 0.8, 1.0];

    /// <summary>L = Σ w ⊙ y(saved times) for fixed weights w.</summary>
    private static double[] LossWeights(int length)
    {
        var w = new double[length];
        for (int i = 0; i < length; i++) w[i] = Math.Sin(1.7 * i + 0.3);
        return w;
    }

    private static (double[] GradY0, double[] GradTheta, OdeSolveNode<double> Node) Gradients(MlpDynamics<double> f, SolveOptions options, ISensitivity sensitivity)
    {
        var tape = new Tape<double>();
        f.Parameters.ZeroGradients();
        var y0 = tape.Variable(InitialState, new Shape(Batch, 2));
        var solve = OdeLayer.Solve(tape, f, y0, SaveAt.Times(SaveTimes), options, sensitivity);
        var w = LossWeights(solve.States.Shape.Length);
        tape.Backward(solve.States, w, GradientSink<double>.ParameterGradients);
        return (y0.Gradient.ToArray(), f.Parameters.Gradients.ToArray(), solve);
    }

    private static double Loss(MlpDynamics<double> f, double[] y0, SolveOptions options)
    {
        var solution = Ode.Solve<double>(f, y0, SaveAt.Times(SaveTimes), options);
        var w = LossWeights(solution.Values.Length);
        double sum = 0;
        for (int i = 0; i < w.Length; i++) sum += w[i] * solution.Values[i];
        return sum;
    }

    public static IEnumerable<TestCaseData> FixedStepMethods()
    {
        foreach (var method in new[] { Tableaus.RungeKutta4, Tableaus.ThreeEighths, Tableaus.Midpoint, Tableaus.BogackiShampine32, Tableaus.DormandPrince54, Tableaus.Tsitouras54 })
        {
            foreach (ISensitivity s in new ISensitivity[] { new Backprop(), new Checkpointed { Budget = 4 } })
                yield return new TestCaseData(method, s).SetArgDisplayNames(method.Name, s is Backprop ? "Backprop" : "CheckpointedBudget4");
        }
    }

    /// <summary>Finite differences of a fixed-step solve (outputs interpolated inside steps) against the discrete gradient.</summary>
    [TestCaseSource(nameof(FixedStepMethods))]
    public void FixedStepSolve_GradientMatchesCentralDifferences(ButcherTableau method, ISensitivity sensitivity)
    {
        var f = RandomNetwork();
        var options = new SolveOptions { Method = method, StepSize = new FixedStep(0.07) };
        var (gradY0, gradTheta, _) = Gradients(f, options, sensitivity);

        const double h = 1e-6;
        var y0 = (double[])InitialState.Clone();
        for (int i = 0; i < y0.Length; i++)
        {
            double saved = y0[i];
            y0[i] = saved + h; double plus = Loss(f, y0, options);
            y0[i] = saved - h; double minus = Loss(f, y0, options);
            y0[i] = saved;
            double numeric = (plus - minus) / (2 * h);
            Assert.That(gradY0[i], Is.EqualTo(numeric).Within(1e-7 * Math.Max(1, Math.Abs(numeric))), $"y0[{i}]");
        }
        var theta = f.Parameters.Values;
        for (int i = 0; i < theta.Length; i += 7)
        {
            double saved = theta[i];
            theta[i] = saved + h; double plus = Loss(f, y0, options);
            theta[i] = saved - h; double minus = Loss(f, y0, options);
            theta[i] = saved;
            double numeric = (plus - minus) / (2 * h);
            Assert.That(gradTheta[i], Is.EqualTo(numeric).Within(1e-7 * Math.Max(1, Math.Abs(numeric))), $"θ[{i}]");
        }
    }

    [Test]
    public void AdaptiveSolve_BackpropEqualsCheckpointedToRoundOff()
    {
        var options = new SolveOptions { Method = Tableaus.DormandPrince54, RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-12 };
        var f = RandomNetwork();
        var backprop = Gradients(f, options, new Backprop());
        var full = Gradients(f, options, new Checkpointed());
        var budget = new Checkpointed { Budget = 3 };
        var budgeted = Gradients(f, options, budget);
        Assert.That(backprop.Node.ForwardStats.AcceptedSteps, Is.GreaterThan(6), "the test needs more steps than the budget");
        foreach (var other in new[] { full, budgeted })
        {
            AssertClose(other.GradY0, backprop.GradY0, 1e-12);
            AssertClose(other.GradTheta, backprop.GradTheta, 1e-12);
        }
        Assert.That(budgeted.Node.BackwardStats!.Value.RecomputedSteps, Is.GreaterThan(full.Node.BackwardStats!.Value.RecomputedSteps));
        TestContext.Out.WriteLine($"steps {backprop.Node.ForwardStats.AcceptedSteps}, recomputed: full {full.Node.BackwardStats!.Value.RecomputedSteps}, budget 3 {budgeted.Node.BackwardStats!.Value.RecomputedSteps}");
    }

    /// <summary>Every strategy behind the one switch: Adjoint to its tolerance, Reversible to its own (second-order) discretisation.</summary>
    [Test]
    public void AllStrategiesThroughOdeLayer_AgreeWithBackprop()
    {
        var f = RandomNetwork();
        var tight = new SolveOptions { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-12 };
        var backprop = Gradients(f, tight, new Backprop());
        var adjoint = Gradients(f, tight, new Adjoint());
        AssertClose(adjoint.GradY0, backprop.GradY0, 1e-6);
        AssertClose(adjoint.GradTheta, backprop.GradTheta, 1e-6);
        Assert.That(adjoint.Node.BackwardStats!.Value.FunctionEvaluations, Is.GreaterThan(0));

        var reversible = Gradients(f, new SolveOptions { StepSize = new FixedStep(1e-3) }, new Reversible());
        AssertClose(reversible.GradY0, backprop.GradY0, 1e-4);
        AssertClose(reversible.GradTheta, backprop.GradTheta, 1e-4);
        TestContext.Out.WriteLine($"NFE-B: adjoint {adjoint.Node.BackwardStats!.Value.FunctionEvaluations}, reversible {reversible.Node.BackwardStats!.Value.FunctionEvaluations}");
    }

    [Test]
    public void CheckpointedWithBudget_NeverHoldsMoreCheckpointsThanTheBudget()
    {
        var gradient = new CheckpointedGradient<double>(new Shape(Batch, 2), budget: 4);
        var f = RandomNetwork();
        var output = new double[2 * Batch * 2];
        var stats = gradient.Forward(f, InitialState, SaveAt.End(0, 3), new SolveOptions { StepSize = new FixedStep(0.01) }, output);
        Assert.That(stats.AcceptedSteps, Is.EqualTo(300));
        Assert.That(gradient.MaxCheckpointsHeld, Is.LessThanOrEqualTo(4).And.GreaterThan(1));
    }

    [Test]
    public void Backward_ThrowsForNonFiniteCotangent()
    {
        var f = RandomNetwork();
        var tape = new Tape<double>();
        var solve = OdeLayer.Solve(tape, f, tape.Variable(InitialState, new Shape(Batch, 2)), SaveAt.End(0, 1));
        var seed = new double[solve.States.Shape.Length];
        seed[1] = double.NaN;
        Assert.Throws<ArgumentException>(() => tape.Backward(solve.States, seed, GradientSink<double>.ParameterGradients));
    }

    [Test]
    public void GradientAudit_ReportsStepwiseStrategiesAgreeingWithFiniteDifferences()
    {
        var f = RandomNetwork();
        var options = new SolveOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-10 };
        var report = GradientAudit.Run<double>(f, InitialState, new Shape(Batch, 2), SaveAt.Times(SaveTimes), options,
            (tape, states) => Ops.Sum(Ops.Square(states)), [new Backprop(), new Checkpointed { Budget = 2 }], maxComponents: 40);
        Assert.That(report, Has.Count.EqualTo(3));
        foreach (var line in report) TestContext.Out.WriteLine(line);
        Assert.That(report[1].RelativeDifference, Is.LessThan(1e-6));
        Assert.That(report[2].RelativeDifference, Is.LessThan(1e-6));
        Assert.That(report[1].Loss, Is.EqualTo(report[0].Loss).Within(1e-12 * Math.Abs(report[0].Loss)));
    }

    private static void AssertClose(double[] actual, double[] expected, double relative)
    {
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(relative * Math.Max(scale, 1e-300)), $"element {i}");
    }
}
