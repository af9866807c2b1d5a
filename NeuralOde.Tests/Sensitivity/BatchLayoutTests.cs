using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>One layout rule at OdeLayer's boundary: every strategy refuses a y0 of the right length but the wrong rows.</summary>
public class BatchLayoutTests
{
    private static readonly ISensitivity[] Strategies =
    [
        new Backprop(), new Adjoint(), new Checkpointed(), new Checkpointed { Budget = 4 }, new Reversible(), new ReversibleRungeKutta(),
    ];

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (var strategy in Strategies)
        {
            string name = strategy is Checkpointed { Budget: not null } ? "CheckpointedBudget" : strategy.GetType().Name;
            yield return new TestCaseData(strategy, new Shape(1, 8)).SetArgDisplayNames(name, "1x8");
            yield return new TestCaseData(strategy, new Shape(8, 1)).SetArgDisplayNames(name, "8x1");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void OdeLayer_Y0OfTheRightLengthButWrongRows_IsRefusedByEveryStrategy(ISensitivity strategy, Shape wrong)
    {
        var f = new MlpDynamics<double>(Mlp.Create<double>(2, [8], 2, Activation.Tanh, TimeInput.Concat, seed: 1), batchSize: 4);
        var tape = new Tape<double>();
        var y0 = tape.Variable(new double[8], wrong);
        var options = new SolveOptions { StepSize = new FixedStep(0.1) };
        var e = Assert.Throws<ArgumentException>(() => OdeLayer.Solve(tape, f, y0, SaveAt.End(0, 1), options, strategy));
        Assert.That(e!.ParamName, Is.EqualTo("y0"));
        Assert.That(e.Message, Does.Contain(wrong.ToString()).And.Contain(new Shape(4, 2).ToString()));
    }

    [TestCaseSource(nameof(Strategies))]
    public void OdeLayer_Y0InTheBatchLayout_IsAcceptedByEveryStrategy(ISensitivity strategy)
    {
        var f = new MlpDynamics<double>(Mlp.Create<double>(2, [8], 2, Activation.Tanh, TimeInput.Concat, seed: 1), batchSize: 4);
        var tape = new Tape<double>();
        var y0 = tape.Variable([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], new Shape(4, 2));
        var solve = OdeLayer.Solve(tape, f, y0, SaveAt.End(0, 1), new SolveOptions { StepSize = new FixedStep(0.1) }, strategy);
        tape.Backward(Ops.Sum(solve.Final));
        Assert.That(y0.Gradient.ToArray().All(double.IsFinite));
    }
}
