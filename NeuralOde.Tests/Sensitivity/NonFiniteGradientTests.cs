using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.AutoDiff.Optim;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>A NaN gradient is never silent: every strategy's backward pass throws, and an optimizer can refuse the step.</summary>
public class NonFiniteGradientTests
{
    /// <summary>f(y) = tanh(W y + b) + sqrt(y − y): the value is finite (sqrt 0 = 0), the derivative of sqrt at 0 is not.</summary>
    private sealed class NaNDerivativeOnly : TapeDynamics<double>
    {
        private readonly Linear<double> layer;

        public NaNDerivativeOnly(int batch)
            : base(new ParameterSet<double>(), new Shape(batch, 2)) => layer = new Linear<double>(Parameters, "net.0", 2, 2, new Random(3));

        public override Var<double> Record(Tape<double> tape, double t, Var<double> y) =>
            Ops.Add(layer.Forward(tape, y, Activation.Tanh), Ops.Sqrt(Ops.Subtract(y, y)));
    }

    private static IEnumerable<TestCaseData> Strategies()
    {
        yield return new TestCaseData(new Backprop(), "Backprop").SetArgDisplayNames("Backprop");
        yield return new TestCaseData(new Checkpointed(), "Checkpointed").SetArgDisplayNames("Checkpointed");
        yield return new TestCaseData(new Checkpointed { Budget = 2 }, "Checkpointed").SetArgDisplayNames("CheckpointedBudget");
        yield return new TestCaseData(new Reversible(), "Reversible").SetArgDisplayNames("Reversible");
        yield return new TestCaseData(new ReversibleRungeKutta(), "ReversibleRungeKutta").SetArgDisplayNames("ReversibleRungeKutta");
        yield return new TestCaseData(new Adjoint(), "Adjoint").SetArgDisplayNames("Adjoint");
    }

    [TestCaseSource(nameof(Strategies))]
    public void Backward_NaNOnlyInTheDerivative_ThrowsNamingTheStrategy_AndTheFirstNonFiniteParameter(ISensitivity strategy, string name)
    {
        var f = new NaNDerivativeOnly(batch: 3);
        var tape = new Tape<double>();
        var y0 = tape.Constant([0.1, -0.2, 0.3, 0.4, -0.5, 0.6], new Shape(3, 2));
        var solve = OdeLayer.Solve(tape, f, y0, SaveAt.End(0, 1), new SolveOptions { StepSize = new FixedStep(0.1) }, strategy);
        var loss = Ops.MeanSquaredError(solve.Final, tape.Constant(new double[6], new Shape(3, 2)));
        Assert.That(double.IsFinite(loss.Value[0]), "the loss itself is finite");
        f.Parameters.ZeroGradients();

        var e = Assert.Throws<NonFiniteGradientException>(() => tape.Backward(loss));
        Assert.That(e!.Producer, Is.EqualTo(name));
        Assert.That(e.Message, Does.StartWith(name));
        if (strategy is Adjoint)
        {
            // The continuous adjoint meets the NaN while integrating a_θ backwards: the exception says when and where.
            Assert.That(e.InnerException, Is.InstanceOf<OdeSolverException>());
            Assert.That(e.Message, Does.Contain("adjoint state became non-finite"));
        }
        else if (strategy is Reversible)
        {
            // Reversible carries cotangents step by step: it stops at the first step whose cotangent is not finite.
            Assert.That(e.Message, Does.Contain("cotangent of f at t ="));
        }
        else
        {
            Assert.That(e.ParameterName, Does.StartWith("net.0."));
            Assert.That(e.Index, Is.GreaterThanOrEqualTo(0));
            Assert.That(double.IsFinite(e.Value), Is.False);
            Assert.That(e.Message, Does.Contain($"'{e.ParameterName}'").And.Contain($"index {e.Index}"));
        }
    }

    [TestCaseSource(nameof(Strategies))]
    public void Backward_FiniteGradients_DoNotThrow(ISensitivity strategy, string name)
    {
        var f = new MlpDynamics<double>(Mlp.Create<double>(2, [4], 2, Activation.Tanh, TimeInput.Concat, seed: 2), batchSize: 3);
        var tape = new Tape<double>();
        var y0 = tape.Constant([0.1, -0.2, 0.3, 0.4, -0.5, 0.6], new Shape(3, 2));
        var solve = OdeLayer.Solve(tape, f, y0, SaveAt.End(0, 1), new SolveOptions { StepSize = new FixedStep(0.1) }, strategy);
        f.Parameters.ZeroGradients();
        Assert.DoesNotThrow(() => tape.Backward(Ops.Sum(Ops.Square(solve.Final))), name);
        Assert.That(f.Parameters.Gradients.ToArray().All(double.IsFinite));
    }

    private static ParameterSet<double> SetWithGradients(params double[] gradients)
    {
        var set = new ParameterSet<double>();
        set.Add("a", new Shape(1, 2));
        set.Add("b", new Shape(1, gradients.Length - 2));
        set.Values.Fill(1.0);
        gradients.CopyTo(set.Gradients);
        return set;
    }

    [Test]
    public void Optimizer_SkipPolicy_RefusesANonFiniteStep_LeavingParametersAndStateUnchanged()
    {
        var set = SetWithGradients(0.5, -0.5, 0.25, 0.125);
        var adam = new Adam<double>(set, learningRate: 0.1) { NonFiniteGradients = NonFiniteGradientPolicy.Skip };
        adam.Step();
        double[] afterGood = set.Values.ToArray();
        set.Gradients[3] = double.NaN;
        adam.Step();
        Assert.That(set.Values.ToArray(), Is.EqualTo(afterGood));
        Assert.That(adam.StepCount, Is.EqualTo(1));
        Assert.That(adam.SkippedSteps, Is.EqualTo(1));

        // The moments were not touched: the next good step equals the second step of an optimizer that never saw the NaN.
        set.Gradients[3] = 0.125;
        adam.Step();
        var clean = SetWithGradients(0.5, -0.5, 0.25, 0.125);
        var reference = new Adam<double>(clean, learningRate: 0.1);
        reference.Step();
        reference.Step();
        Assert.That(set.Values.ToArray(), Is.EqualTo(clean.Values.ToArray()));
    }

    [Test]
    public void Optimizer_ThrowPolicy_NamesTheOptimizerAndTheFirstNonFiniteParameter()
    {
        IOptimizer[] optimizers(ParameterSet<double> s) =>
        [
            new Sgd<double>(s, learningRate: 0.1) { NonFiniteGradients = NonFiniteGradientPolicy.Throw },
            new RmsProp<double>(s, learningRate: 0.1) { NonFiniteGradients = NonFiniteGradientPolicy.Throw },
            new AdamW<double>(s) { NonFiniteGradients = NonFiniteGradientPolicy.Throw },
        ];
        var set = SetWithGradients(0.5, -0.5, 0.25, double.PositiveInfinity);
        foreach (var optimizer in optimizers(set))
        {
            var e = Assert.Throws<NonFiniteGradientException>(optimizer.Step);
            Assert.That(e!.ParameterName, Is.EqualTo("b"));
            Assert.That(e.Index, Is.EqualTo(1));
            Assert.That(e.Producer, Is.EqualTo(optimizer.GetType().Name.Split('`')[0]));
            Assert.That(set.Values.ToArray(), Is.All.EqualTo(1.0), $"{e.Producer} changed nothing");
        }
    }

    [Test]
    public void Optimizer_DefaultPolicy_AppliesTheStepAsBefore()
    {
        var set = SetWithGradients(0.5, -0.5, 0.25, double.NaN);
        new Sgd<double>(set, learningRate: 0.1).Step();
        Assert.That(double.IsNaN(set.Values[3]), "the default keeps PyTorch's behaviour: the NaN reaches the parameter");
    }
}
