using NeuralOde.AutoDiff;
using NeuralOde.Core;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Solvers;

/// <summary>Gradients through every stiff stepper by the adjoint; AutoSwitch, which has no step VJP, is refused by Backprop and Checkpointed by name.</summary>
public class StiffStepperGradientTests
{
    public static readonly IStepperFactory[] Steppers =
    [
        new Rosenbrock23(), new Rosenbrock(RosenbrockTableaus.Rodas4), new Rosenbrock(RosenbrockTableaus.Rodas5P),
        new Esdirk(EsdirkTableaus.TrBdf2), new Esdirk(EsdirkTableaus.Kvaerno3), new Esdirk(EsdirkTableaus.Kvaerno4), new Esdirk(EsdirkTableaus.Kvaerno5),
    ];

    [TestCaseSource(nameof(Steppers))]
    public void Adjoint_WithTheStepperBothWays_MatchesBackpropThroughDormandPrince(IStepperFactory stepper)
    {
        // The backward solve makes its own stepper from the same factory (a Jacobian of the augmented system there too).
        // Mild dynamics: recomputing z backwards is unstable on a stiff decay whatever the method (measured with
        // W11 = −500: dL/dW ~ 1e139); Adjoint { Interpolating = true } is the stiff problem's adjoint.
        var stiff = StiffStepperChecks.MildLinearGradients(new SolveOptions { Stepper = stepper, RelativeTolerance = 1e-7, AbsoluteTolerance = 1e-10 }, new Adjoint());
        var reference = StiffStepperChecks.MildLinearGradients(new SolveOptions { RelativeTolerance = 1e-11, AbsoluteTolerance = 1e-13, MaxSteps = 1_000_000 }, new Backprop());
        double y0Error = GradientCheck.MaxRelativeToLargest(stiff.GradY0, reference.GradY0), thetaError = GradientCheck.MaxRelativeToLargest(stiff.GradTheta, reference.GradTheta);
        TestContext.Out.WriteLine($"{stepper}: relative differences dL/dy0 {y0Error:G3}, dL/dθ {thetaError:G3}");
        Assert.That(y0Error, Is.LessThan(1e-5));
        Assert.That(thetaError, Is.LessThan(1e-5));
    }

    [Test]
    public void BackpropAndCheckpointed_RefuseAutoSwitch_NamingTheMissingStepVjp()
    {
        // Its steps depend on the switching history, not on the start state alone, so no step VJP is offered.
        foreach (ISensitivity sensitivity in new ISensitivity[] { new Backprop(), new Checkpointed() })
        {
            var f = new ReversibleLinearDynamics([-500, 1, 0, -1], [1, 0.5]);
            var tape = new Tape<double>();
            var x = tape.Variable([1.0, 2.0], new Shape(1, 2));
            var e = Assert.Throws<ArgumentException>(() => OdeLayer.Solve(tape, f, x, SaveAt.End(0, 1), new SolveOptions { Stepper = new AutoSwitch() }, sensitivity));
            Assert.That(e!.Message, Does.Contain("IDifferentiableStepper"), sensitivity.GetType().Name);
        }
    }
}
