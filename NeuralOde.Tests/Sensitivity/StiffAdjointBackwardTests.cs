using NeuralOde.AutoDiff;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>
/// The interpolating adjoint with a stiff method for its backward solve: [a, a_θ] is solved with the Jacobian of a
/// alone (a_θ is a quadrature, coupled by one VJP per linear solve), so a network's p parameters are never differenced.
/// </summary>
public class StiffAdjointBackwardTests
{
    private static readonly double[] SavedTimes = [0, 0.3, 0.75, 1];

    public static readonly IStepperFactory[] Steppers =
    [
        new Rosenbrock23(), new Rosenbrock(RosenbrockTableaus.Rodas5P), new Esdirk(EsdirkTableaus.Kvaerno5),
    ];

    private static double[] InitialState() => [.. Enumerable.Range(0, StiffNetwork.Batch * StiffNetwork.Width).Select(i => Math.Cos(1.3 * i) * 0.9)];

    private static (double[] Gradients, OdeSolveNode<double> Solve) Gradients(IDifferentiableDynamics<double> f, SolveOptions options, ISensitivity sensitivity)
    {
        var tape = new Tape<double>();
        var x = tape.Variable(InitialState(), new Shape(StiffNetwork.Batch, StiffNetwork.Width));
        var solve = OdeLayer.Solve(tape, f, x, SaveAt.Times(SavedTimes), options, sensitivity);
        f.Parameters.ZeroGradients();
        tape.Backward(Ops.Sum(Ops.Square(solve.States)));
        return ([.. f.Parameters.Gradients.ToArray(), .. x.Gradient.ToArray()], solve);
    }

    [TestCaseSource(nameof(Steppers))]
    public void InterpolatingAdjoint_WithTheStiffMethodBothWays_ApproachesTheDiscreteGradientAsTheToleranceFalls(IStepperFactory stepper)
    {
        var f = new StiffNetwork(forced: true);
        // The reference: Backprop through Rodas5P at a tolerance far below the adjoint's.
        var (reference, _) = Gradients(f, new SolveOptions { Stepper = new Rosenbrock(RosenbrockTableaus.Rodas5P), RelativeTolerance = 1e-11, AbsoluteTolerance = 1e-13, MaxSteps = 1_000_000 }, new Backprop());
        double previous = double.PositiveInfinity;
        foreach (double rtol in new[] { 1e-5, 1e-7, 1e-9 })
        {
            var options = new SolveOptions { Stepper = stepper, RelativeTolerance = rtol, AbsoluteTolerance = rtol * 1e-2, MaxSteps = 1_000_000 };
            var (adjoint, solve) = Gradients(f, options, new Adjoint { Interpolating = true });
            double gap = GradientCheck.MaxRelativeToLargest(adjoint, reference);
            var backward = solve.BackwardStats!.Value;
            TestContext.Out.WriteLine($"{stepper} rtol {rtol:G2}: gap {gap:E2}; backward {backward.Steps} steps, {backward.FunctionEvaluations} evaluations");
            Assert.That(gap, Is.LessThan(Math.Max(previous, 1e-9)), $"rtol {rtol}");
            previous = gap;
        }
        Assert.That(previous, Is.LessThan(2e-6));
    }

    [TestCaseSource(nameof(Steppers))]
    public void RecomputingAdjoint_WithTheStiffMethodBothWays_MatchesBackprop(IStepperFactory stepper)
    {
        // Recomputing z backwards is stable only for a mild decay (rate 5 here); [z, a] is the core (2n = 12), a_θ the
        // tail (p = 44), coupled by central differences of VJPs since a_θ' depends on z nonlinearly.
        var f = new StiffNetwork(forced: true, decayRate: 5);
        var (reference, _) = Gradients(f, new SolveOptions { Stepper = new Rosenbrock(RosenbrockTableaus.Rodas5P), RelativeTolerance = 1e-11, AbsoluteTolerance = 1e-13, MaxSteps = 1_000_000 }, new Backprop());
        var options = new SolveOptions { Stepper = stepper, RelativeTolerance = 1e-9, AbsoluteTolerance = 1e-11, MaxSteps = 1_000_000 };
        var (adjoint, solve) = Gradients(f, options, new Adjoint());
        double gap = GradientCheck.MaxRelativeToLargest(adjoint, reference);
        TestContext.Out.WriteLine($"{stepper}: gap {gap:E2}; backward {solve.BackwardStats!.Value.Steps} steps, {solve.BackwardEvaluations} evaluations");
        Assert.That(gap, Is.LessThan(stepper is Rosenbrock23 ? 1e-5 : 1e-7));
    }

    [TestCaseSource(nameof(Steppers))]
    public void StiffBackwardSolve_NeverDifferencesTheParameters(IStepperFactory stepper)
    {
        // p = 44 parameters: differencing [a, a_θ] whole would cost n + p + 1 = 51 evaluations per Jacobian, with one
        // Jacobian per step; coupled, a step costs the core's D + 1 = 3 (three rows of two), its stages and one product per solve.
        var f = new StiffNetwork(forced: true);
        int p = f.Parameters.Length;
        var options = new SolveOptions { Stepper = stepper, RelativeTolerance = 1e-7, AbsoluteTolerance = 1e-9 };
        var (_, solve) = Gradients(f, options, new Adjoint { Interpolating = true });
        var backward = solve.BackwardStats!.Value;
        double perStep = (double)backward.FunctionEvaluations / backward.Steps;
        TestContext.Out.WriteLine($"{stepper}: {backward.Steps} backward steps, {backward.FunctionEvaluations} evaluations ({perStep:F1} a step), p = {p}");
        Assert.That(p, Is.GreaterThan(LinearlyImplicitSystem<double>.ShortTail), "a tail this long is coupled, not differenced");
        Assert.That(perStep, Is.LessThan(p));
    }

    [Test]
    public void RecomputingAdjoint_WithAStiffBackwardSolveOnALargeBatch_IsRefusedNamingTheRemedy()
    {
        // [z, a] of 2 × 4096 × 2 unknowns has no row structure: a dense 16384² Jacobian (2 GiB) would be factored per step.
        var f = new MlpDynamics<float>(NeuralOde.AutoDiff.Nn.Mlp.Create<float>(2, [16], 2, NeuralOde.AutoDiff.Activation.Tanh, NeuralOde.AutoDiff.Nn.TimeInput.None, seed: 1), 4096);
        var tape = new Tape<float>();
        var x = tape.Constant(new float[4096 * 2], new Shape(4096, 2));
        var options = new SolveOptions { Stepper = new Rosenbrock(RosenbrockTableaus.Rodas5P) };
        var solve = OdeLayer.Solve(tape, f, x, SaveAt.End(0, 0.1), options, new Adjoint());
        var e = Assert.Throws<ArgumentException>(() => tape.Backward(Ops.Sum(solve.States)));
        Assert.That(e!.Message, Does.Contain("16384 × 16384").And.Contain("Interpolating = true"));
    }
}
