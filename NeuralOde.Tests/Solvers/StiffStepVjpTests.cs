using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Solvers;

/// <summary>
/// Backprop and Checkpointed through Rosenbrock and ESDIRK steps: the step VJPs (a transposed solve per stage, the
/// Jacobian's own dependence for Rosenbrock, the implicit function theorem for ESDIRK) give the gradient of the plain
/// solve, checked against its finite differences, against each other and against published sensitivities.
/// </summary>
public class StiffStepVjpTests
{
    private const int Batch = StiffNetwork.Batch, Width = StiffNetwork.Width;
    private static readonly double[] SavedTimes = [0, 0.3, 0.75, 1];

    public static readonly IStepperFactory[] Steppers =
    [
        new Rosenbrock23(), new Rosenbrock(RosenbrockTableaus.Rodas4), new Rosenbrock(RosenbrockTableaus.Rodas5P),
        new Esdirk(EsdirkTableaus.TrBdf2), new Esdirk(EsdirkTableaus.Kvaerno3), new Esdirk(EsdirkTableaus.Kvaerno4), new Esdirk(EsdirkTableaus.Kvaerno5),
    ];

    private static double[] InitialState() => [.. Enumerable.Range(0, Batch * Width).Select(i => Math.Cos(1.3 * i) * 0.9)];

    /// <summary>L = Σ y(t_i)² over the saved times, through OdeLayer, and its gradients.</summary>
    private static (double Loss, double[] GradTheta, double[] GradY0) LossAndGradients(IDifferentiableDynamics<double> f, SolveOptions options, ISensitivity sensitivity)
    {
        var tape = new Tape<double>();
        var x = tape.Variable(InitialState(), new Shape(Batch, Width));
        var solve = OdeLayer.Solve(tape, f, x, SaveAt.Times(SavedTimes), options, sensitivity);
        var loss = Ops.Sum(Ops.Square(solve.States));
        f.Parameters.ZeroGradients();
        tape.Backward(loss);
        return (loss.Value[0], f.Parameters.Gradients.ToArray(), x.Gradient.ToArray());
    }

    private static double PlainLoss(IDynamics<double> f, double[] y0, SolveOptions options) =>
        Ode.Solve(f, y0, SaveAt.Times(SavedTimes), options).Values.ToArray().Sum(v => v * v);

    private static void AssertMatchesFiniteDifferences(IDifferentiableDynamics<double> f, SolveOptions options, ISensitivity sensitivity, double relative)
    {
        var (_, gradTheta, gradY0) = LossAndGradients(f, options, sensitivity);
        double[] y0 = InitialState();
        double Loss() => PlainLoss(f, y0, options);
        var theta = f.Parameters.Values;
        double scale = Math.Max(gradTheta.Max(Math.Abs), gradY0.Max(Math.Abs));
        double worst = 0;
        foreach (int i in new[] { 0, 3, 7, theta.Length / 2, theta.Length - 2, theta.Length - 1 })
        {
            double fd = GradientCheck.CentralDifference(theta, i, Loss, 1e-5);
            worst = Math.Max(worst, Math.Abs(gradTheta[i] - fd) / scale);
        }
        for (int i = 0; i < y0.Length; i++)
        {
            double fd = GradientCheck.CentralDifference(y0, i, Loss, 1e-5);
            worst = Math.Max(worst, Math.Abs(gradY0[i] - fd) / scale);
        }
        TestContext.Out.WriteLine($"{options.Stepper} {sensitivity.GetType().Name}: largest difference from central differences {worst:E2} of the largest gradient {scale:G4}");
        Assert.That(worst, Is.LessThan(relative));
    }

    [TestCaseSource(nameof(Steppers))]
    public void FixedStepBackprop_WithTheExactJacobian_MatchesFiniteDifferencesOfThePlainSolve(IStepperFactory stepper)
    {
        // Newton converged far below the differences' own error (ESDIRK's iteration stops in these tolerance units).
        var options = new SolveOptions { Stepper = stepper, StepSize = new FixedStep(0.05), RelativeTolerance = 1e-13, AbsoluteTolerance = 1e-13 };
        AssertMatchesFiniteDifferences(new ExactStiffNetwork(), options, new Backprop(), 1e-7);
    }

    [TestCaseSource(nameof(Steppers))]
    public void FixedStepCheckpointed_WithDifferencedJacobians_MatchesFiniteDifferencesOfThePlainSolve(IStepperFactory stepper)
    {
        // The forward's Jacobian is a forward difference, whose rounding error (~1e-8 relative) makes the plain solve a
        // slightly rough function of θ; the gradient takes J as exact. Measured 1.5e-7 (Rodas) and 3.2e-6 (Rosenbrock23,
        // whose W-method stages lean on J most); without its Jacobian term the exact-Jacobian test is off by 1e-4 to 1e-3.
        // Autonomous, so no difference in t enters.
        var options = new SolveOptions { Stepper = stepper, StepSize = new FixedStep(0.05), RelativeTolerance = 1e-13, AbsoluteTolerance = 1e-13 };
        AssertMatchesFiniteDifferences(new StiffNetwork(forced: false), options, new Checkpointed { Budget = 3 }, 1e-5);
    }

    [TestCaseSource(nameof(Steppers))]
    public void AdaptiveBackprop_EqualsCheckpointedWithABudget(IStepperFactory stepper)
    {
        var options = new SolveOptions { Stepper = stepper, RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-8 };
        var f = new ExactStiffNetwork();
        var (lossBackprop, gradBackprop, gradY0Backprop) = LossAndGradients(f, options, new Backprop());
        var (lossCheckpointed, gradCheckpointed, gradY0Checkpointed) = LossAndGradients(f, options, new Checkpointed { Budget = 2 });
        Assert.That(lossCheckpointed, Is.EqualTo(lossBackprop));
        double scale = Math.Max(gradBackprop.Max(Math.Abs), gradY0Backprop.Max(Math.Abs));
        for (int i = 0; i < gradBackprop.Length; i++)
            Assert.That(gradCheckpointed[i], Is.EqualTo(gradBackprop[i]).Within(1e-12 * scale), $"dL/dθ[{i}]");
        for (int i = 0; i < gradY0Backprop.Length; i++)
            Assert.That(gradY0Checkpointed[i], Is.EqualTo(gradY0Backprop[i]).Within(1e-12 * scale), $"dL/dy0[{i}]");
    }

    [TestCaseSource(nameof(Steppers))]
    public void AdaptiveBackprop_MatchesFiniteDifferencesOfTheReplayedSolve(IStepperFactory stepper)
    {
        // The adaptive solve's accepted grid, replayed as fixed steps: the same discrete map, without step-size jumps.
        var adaptive = new SolveOptions { Stepper = stepper, RelativeTolerance = 1e-5, AbsoluteTolerance = 1e-7 };
        var f = new ExactStiffNetwork();
        var steps = Ode.Solve(f, InitialState(), SaveAt.Times(SavedTimes), adaptive with { RecordSteps = true, StepToTimes = SavedTimes[1..^1] }).Steps!;
        double[] grid = [.. steps.Select(s => s.EndTime)];
        // One fixed step between consecutive landing times (h = 1 spans the whole interval): exactly the recorded grid.
        var replay = new SolveOptions { Stepper = stepper, StepSize = new FixedStep(1), StepToTimes = grid, RelativeTolerance = 1e-13, AbsoluteTolerance = 1e-13 };
        TestContext.Out.WriteLine($"{grid.Length} accepted steps");
        AssertMatchesFiniteDifferences(f, replay, new Backprop(), 1e-7);
    }

    [TestCase("Rodas5P")]
    [TestCase("Kvaerno5")]
    public void FloatBackprop_AgreesWithDouble(string method)
    {
        // The same network and batch in float and double (the float network's weights are the double's, rounded).
        IStepperFactory stepper = method == "Rodas5P" ? new Rosenbrock(RosenbrockTableaus.Rodas5P) : new Esdirk(EsdirkTableaus.Kvaerno5);
        var options = new SolveOptions { Stepper = stepper, StepSize = new FixedStep(0.05), RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-6 };
        double[] Gradients<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var f = new MlpDynamics<T>(Mlp.Create<T>(Width, [8], Width, Activation.Tanh, TimeInput.Concat, seed: 17), Batch);
            var tape = new Tape<T>();
            var x = tape.Variable([.. InitialState().Select(T.CreateTruncating)], new Shape(Batch, Width));
            var solve = OdeLayer.Solve(tape, f, x, SaveAt.Times(SavedTimes), options, new Backprop());
            f.Parameters.ZeroGradients();
            tape.Backward(Ops.Sum(Ops.Square(solve.States)));
            return [.. f.Parameters.Gradients.ToArray().Select(double.CreateTruncating), .. x.Gradient.ToArray().Select(double.CreateTruncating)];
        }
        double[] single = Gradients<float>(), reference = Gradients<double>();
        double difference = GradientCheck.MaxRelativeToLargest(single, reference);
        TestContext.Out.WriteLine($"{method}: float against double, largest difference {difference:E2} of the largest gradient");
        Assert.That(difference, Is.LessThan(1e-4));
    }

    /// <summary>Prothero–Robinson's y' = λ(y − sin t) + cos t, differentiated by its VJP (no parameters).</summary>
    private sealed class ProtheroRobinson(double lambda) : IDifferentiableDynamics<double>
    {
        public int Dimension => 1;

        public ParameterSet<double> Parameters { get; } = new();

        public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> dydt) => dydt[0] = lambda * (y[0] - Math.Sin(t)) + Math.Cos(t);

        public void Vjp(double t, ReadOnlySpan<double> y, ReadOnlySpan<double> cotangent, Span<double> gradY, Span<double> gradTheta) => gradY[0] = lambda * cotangent[0];

        public Var<double> Record(Tape<double> tape, double t, Var<double> y) => throw new NotSupportedException("differentiated by its VJP");
    }

    [TestCaseSource(nameof(Steppers))]
    public void TimeAndStateGradients_ThroughAStiffSolve_MatchTheClosedForm(IStepperFactory stepper)
    {
        // y(t1) = sin t1 + (y0 − sin t0)·e^{λ(t1 − t0)}; L = y(t1)²: dL/dt1 = 2y·y'(t1), dL/dt0 = −2y·e^{λΔ}·(cos t0 + λ(y0 − sin t0)),
        // dL/dy0 = 2y·e^{λΔ}. λ = −20 over [0.2, 0.5]: e^{λΔ} = 2.5e-3, stiff enough that h·λ reaches −2 and beyond.
        const double lambda = -20, t0 = 0.2, t1 = 0.5, y0 = 1.5;
        double decay = Math.Exp(lambda * (t1 - t0)), y = Math.Sin(t1) + (y0 - Math.Sin(t0)) * decay;
        double slope = lambda * (y - Math.Sin(t1)) + Math.Cos(t1);
        double[] expected = [2 * y * decay, -2 * y * decay * (Math.Cos(t0) + lambda * (y0 - Math.Sin(t0))), 2 * y * slope];
        var f = new ProtheroRobinson(lambda);
        var tape = new Tape<double>();
        var x = tape.Variable([y0], new Shape(1, 1));
        var start = tape.Variable([t0], Shape.Scalar);
        var end = tape.Variable([t1], Shape.Scalar);
        var options = new SolveOptions { Stepper = stepper, RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-12, MaxSteps = 1_000_000 };
        var solve = OdeLayer.Solve(tape, f, x, start, end, options, new Backprop());
        tape.Backward(Ops.Sum(Ops.Square(solve.States)));
        double[] actual = [x.Gradient[0], start.Gradient[0], end.Gradient[0]];
        string[] names = ["dL/dy0", "dL/dt0", "dL/dt1"];
        // The gradient of the discrete solve: within its discretisation error of the closed form (second-order methods
        // measured 2.4e-6 and 3.4e-6 relative in dL/dy0 at rtol 1e-10, the others at most 1.2e-8).
        bool secondOrder = stepper is Rosenbrock23 || stepper is Esdirk { Tableau.Order: 2 };
        double bar = secondOrder ? 1e-5 : 1e-6;
        for (int i = 0; i < 3; i++)
        {
            TestContext.Out.WriteLine($"{stepper} {names[i]}: {actual[i]:E10} closed form {expected[i]:E10}");
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(bar * Math.Abs(expected[i])), names[i]);
        }
    }

    /// <summary>Delegates everything to the dynamics but the declaration that they ignore t.</summary>
    private sealed class Undeclared(IDifferentiableDynamics<double> inner) : IDifferentiableDynamics<double>
    {
        public int Dimension => inner.Dimension;

        public ParameterSet<double> Parameters => inner.Parameters;

        public int IndependentRows => inner.IndependentRows;

        public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> dydt) => inner.Evaluate(t, y, dydt);

        public void Vjp(double t, ReadOnlySpan<double> y, ReadOnlySpan<double> cotangent, Span<double> gradY, Span<double> gradTheta) =>
            inner.Vjp(t, y, cotangent, gradY, gradTheta);

        public Var<double> Record(Tape<double> tape, double t, Var<double> y) => inner.Record(tape, t, y);
    }

    [TestCase("Rodas5P")]
    [TestCase("Rosenbrock23")]
    public void AnAutonomousNetwork_SkipsTheDifferenceInTime_WithBitwiseTheSameSolve(string method)
    {
        // A network without a time input declares IsAutonomous: one evaluation fewer per Jacobian forward, two VJPs fewer
        // per step backward. The solve has the same bits (the difference in t of an autonomous f is exactly zero); the
        // gradient no longer adds and subtracts the time term's two equal VJPs, which changed its last bits only.
        IStepperFactory stepper = method == "Rodas5P" ? new Rosenbrock(RosenbrockTableaus.Rodas5P) : new Rosenbrock23();
        var options = new SolveOptions { Stepper = stepper, RelativeTolerance = 1e-7, AbsoluteTolerance = 1e-9 };
        var network = new MlpDynamics<double>(Mlp.Create<double>(Width, [8], Width, Activation.Tanh, TimeInput.None, seed: 17), Batch);
        Assert.That(network.IsAutonomous, Is.True);
        var (lossDeclared, gradDeclared, y0Declared, declared) = Run(network);
        var (lossUndeclared, gradUndeclared, y0Undeclared, undeclared) = Run(new Undeclared(network));
        TestContext.Out.WriteLine($"{stepper}: forward {declared.ForwardStats.FunctionEvaluations} against {undeclared.ForwardStats.FunctionEvaluations} evaluations, backward {declared.BackwardEvaluations} against {undeclared.BackwardEvaluations}");
        Assert.That(lossDeclared, Is.EqualTo(lossUndeclared));
        double scale = gradUndeclared.Concat(y0Undeclared).Max(Math.Abs);
        for (int i = 0; i < gradDeclared.Length; i++) Assert.That(gradDeclared[i], Is.EqualTo(gradUndeclared[i]).Within(1e-13 * scale), $"dL/dθ[{i}]");
        for (int i = 0; i < y0Declared.Length; i++) Assert.That(y0Declared[i], Is.EqualTo(y0Undeclared[i]).Within(1e-13 * scale), $"dL/dy0[{i}]");
        Assert.That(declared.ForwardStats.FunctionEvaluations, Is.EqualTo(undeclared.ForwardStats.FunctionEvaluations - undeclared.ForwardStats.JacobianEvaluations));
        Assert.That(declared.BackwardEvaluations, Is.LessThan(undeclared.BackwardEvaluations));

        (double, double[], double[], OdeSolveNode<double>) Run(IDifferentiableDynamics<double> f)
        {
            var tape = new Tape<double>();
            var x = tape.Variable(InitialState(), new Shape(Batch, Width));
            var solve = OdeLayer.Solve(tape, f, x, SaveAt.Times(SavedTimes), options, new Backprop());
            var loss = Ops.Sum(Ops.Square(solve.States));
            f.Parameters.ZeroGradients();
            tape.Backward(loss);
            return (loss.Value[0], f.Parameters.Gradients.ToArray(), x.Gradient.ToArray(), solve);
        }
    }

    [TestCase("Rodas5P", 0)]
    [TestCase("Rodas5P", 1)]
    [TestCase("Rodas5P", 2)]
    [TestCase("Kvaerno5", 0)]
    [TestCase("Kvaerno5", 2)]
    [TestCase("Rosenbrock23", 1)]
    public void RobertsonRateSensitivities_ByBackprop_MatchThePublishedValues(string method, int component)
    {
        // L = y_i(40): dL/d ln k is row i of the published log-sensitivities (6 orders of magnitude across the row).
        var f = new RobertsonLogRates();
        var tape = new Tape<double>();
        var y0 = tape.Constant([1.0, 0, 0], new Shape(1, 3));
        IStepperFactory stepper = method switch
        {
            "Rodas5P" => new Rosenbrock(RosenbrockTableaus.Rodas5P),
            "Kvaerno5" => new Esdirk(EsdirkTableaus.Kvaerno5),
            _ => new Rosenbrock23(),
        };
        // Rosenbrock23 is of order 2: a looser tolerance and bar (measured: 2e-8 of the row's largest; Rodas5P 7e-10, Kvaerno5 1e-11).
        double rtol = method == "Rosenbrock23" ? 1e-8 : 1e-10, bar = method == "Rosenbrock23" ? 1e-7 : 1e-8;
        var options = new SolveOptions { Stepper = stepper, RelativeTolerance = rtol, AbsoluteTolerance = rtol * 1e-4, MaxSteps = 1_000_000 };
        var solve = OdeLayer.Solve(tape, f, y0, SaveAt.End(0, 40), options, new Backprop());
        TestContext.Out.WriteLine($"{stepper}: {solve.ForwardStats.AcceptedSteps} steps");
        double[] pick = [0, 0, 0];
        pick[component] = 1;
        var loss = Ops.Sum(Ops.Multiply(solve.States, tape.Constant(pick, solve.States.Shape)));
        f.Parameters.ZeroGradients();
        tape.Backward(loss);
        double[] published = RobertsonLogRates.PublishedLogSensitivities()[component];
        double[] mine = f.Parameters.Gradients.ToArray();
        double largest = published.Max(Math.Abs);
        for (int j = 0; j < 3; j++)
        {
            TestContext.Out.WriteLine($"d y{component + 1}/d ln k{j + 1}: {mine[j]:E10} published {published[j]:E10}, relative to the row's largest {Math.Abs(mine[j] - published[j]) / largest:E2}");
            Assert.That(mine[j], Is.EqualTo(published[j]).Within(bar * largest), $"d y{component + 1}/d ln k{j + 1}");
        }
    }
}
