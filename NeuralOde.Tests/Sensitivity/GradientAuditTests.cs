using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>The audit differences each strategy's own discretisation and gives a verdict.</summary>
public class GradientAuditTests
{
    private static readonly double[] Y0 = [0.3, -0.4, 0.5, 0.1, -0.2, 0.6];

    private static MlpDynamics<double> Network() =>
        new(Mlp.Create<double>(2, [6], 2, Activation.Tanh, TimeInput.Concat, seed: 11), batchSize: 3);

    private static GradientAuditReport Audit(IReadOnlyList<ISensitivity> strategies, Func<ISensitivity, double>? threshold = null) =>
        GradientAudit.Run<double>(Network(), Y0, new Shape(3, 2), SaveAt.Times(0, 0.5, 1), new SolveOptions { StepSize = new FixedStep(0.05) },
            (tape, states) => Ops.Sum(Ops.Square(states)), strategies, maxComponents: 30, threshold: threshold);

    [TestCase("fixed")]
    [TestCase("adaptive")]
    public void GradientAudit_ThroughAStiffStepper_PassesForBackpropAndCheckpointed(string stepping)
    {
        // Rodas5P with interior saved times: Backprop and Checkpointed land on them (a stepper of its own has no
        // transposed interpolation), so the finite differences must replay the same landing grid.
        var options = stepping == "fixed"
            ? new SolveOptions { Stepper = new NeuralOde.Core.Solvers.Rosenbrock(NeuralOde.Core.Solvers.RosenbrockTableaus.Rodas5P), StepSize = new FixedStep(0.07) }
            : new SolveOptions { Stepper = new NeuralOde.Core.Solvers.Rosenbrock(NeuralOde.Core.Solvers.RosenbrockTableaus.Rodas5P), RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-8 };
        // Autonomous, with its exact Jacobian: no difference quotient in the forward makes the plain solve rough in θ.
        var f = new ExactJacobian<double>(new MlpDynamics<double>(Mlp.Create<double>(2, [6], 2, Activation.Tanh, TimeInput.None, seed: 11), batchSize: 3));
        var report = GradientAudit.Run<double>(f, Y0, new Shape(3, 2), SaveAt.Times(0, 0.5, 1), options,
            (tape, states) => Ops.Sum(Ops.Square(states)), [new Backprop(), new Checkpointed { Budget = 2 }], maxComponents: 30);
        foreach (var line in report) TestContext.Out.WriteLine(line);
        Assert.That(report.AllPass, report.ToString());
        foreach (var line in report.Skip(1)) Assert.That(line.RelativeDifference, Is.LessThan(1e-7), line.Strategy);
    }

    [Test]
    public void GradientAudit_ExactStrategies_AgreeWithTheirOwnDiscretisation_AndPass()
    {
        var report = Audit([new Backprop(), new Checkpointed(), new Reversible(), new ReversibleRungeKutta()]);
        foreach (var line in report) TestContext.Out.WriteLine(line);
        // Before, Reversible was differenced against Dormand–Prince on its grid and read about 5e-5.
        foreach (var line in report.Skip(1)) Assert.That(line.RelativeDifference, Is.LessThan(1e-7), line.Strategy);
        Assert.That(report.AllPass, report.ToString());
        Assert.That(report.Failing, Is.Empty);
        Assert.That(report.Skip(1).Select(e => e.Threshold), Is.All.EqualTo(1e-5));
    }

    [Test]
    public void GradientAudit_Verdict_NamesTheStrategiesAboveTheirThreshold_WhichCanBeOverridden()
    {
        var report = Audit([new Backprop(), new Adjoint()], threshold: s => s is Adjoint ? 1e-14 : 1e-5);
        foreach (var line in report) TestContext.Out.WriteLine(line);
        Assert.That(report.Failing, Is.EqualTo(new[] { "Adjoint" }));
        Assert.That(report.AllPass, Is.False);
        Assert.That(report.ToString(), Does.Contain("Adjoint fail"));
        Assert.That(report[1].Passes && !report[2].Passes);
    }

    [Test]
    public void GradientAudit_DefaultThreshold_IsTighterForExactStrategiesThanForTheAdjoint()
    {
        var options = new SolveOptions { RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-8 };
        Assert.That(GradientAudit.DefaultThreshold<double>(new Backprop(), options), Is.EqualTo(1e-5));
        Assert.That(GradientAudit.DefaultThreshold<double>(new Reversible(), options), Is.EqualTo(1e-5));
        Assert.That(GradientAudit.DefaultThreshold<double>(new Adjoint(), options), Is.EqualTo(1e-4).Within(1e-18));
        Assert.That(GradientAudit.DefaultThreshold<double>(new Adjoint { RelativeTolerance = 1e-3 }, options), Is.EqualTo(0.1).Within(1e-15));
        Assert.That(GradientAudit.DefaultThreshold<float>(new Backprop(), options), Is.EqualTo(1e-2));
    }
}
