using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Solvers;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Solvers;

/// <summary>Jacobians the stiff steppers take from the dynamics: a user's own, and the exact one from vector–Jacobian products.</summary>
public class JacobianSourceTests
{
    /// <summary>Robertson with its analytic Jacobian (optionally poisoned with a NaN).</summary>
    private sealed class RobertsonWithJacobian(bool poisoned = false) : IJacobianDynamics<double>
    {
        public int Dimension => 3;

        public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> d) => StiffProblems.Functions["rober"](t, y, d);

        public void Jacobian(double t, ReadOnlySpan<double> y, Span<double> j)
        {
            j[0] = -0.04; j[1] = 1e4 * y[2]; j[2] = 1e4 * y[1];
            j[3] = 0.04; j[4] = -1e4 * y[2] - 6e7 * y[1]; j[5] = -1e4 * y[1];
            j[6] = 0; j[7] = 6e7 * y[1]; j[8] = poisoned ? double.NaN : 0;
        }
    }

    public static readonly IStepperFactory[] Methods = [new Rosenbrock(RosenbrockTableaus.Rodas5P), new Esdirk(EsdirkTableaus.Kvaerno5)];

    [TestCaseSource(nameof(Methods))]
    public void AUsersJacobian_IsUsed_SavingTheDifferenceQuotientsEvaluations(IStepperFactory method)
    {
        var (t1, y0, reference) = StiffProblems.Problem("rober");
        var options = new SolveOptions { Stepper = method, RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-10, MaxSteps = 100_000 };
        var analytic = Ode.Solve(new RobertsonWithJacobian(), y0, SaveAt.End(0, t1), options);
        var differenced = Ode.Solve(new FuncDynamics<double>(3, StiffProblems.Rhs["rober"]), y0, SaveAt.End(0, t1), options);
        double units = StiffProblems.ToleranceUnits(analytic.States[^1], reference, 1e-6, 1e-10);
        TestContext.Out.WriteLine($"{method}: analytic Jacobian {analytic.Stats.FunctionEvaluations} evaluations / {analytic.Stats.AcceptedSteps} steps ({units:G3} units), differences {differenced.Stats.FunctionEvaluations} / {differenced.Stats.AcceptedSteps}");
        Assert.That(units, Is.LessThan(10));
        // No difference quotients: 3 evaluations fewer per Jacobian (at least), give or take a few steps.
        Assert.That(analytic.Stats.FunctionEvaluations, Is.LessThan(differenced.Stats.FunctionEvaluations - 2 * analytic.Stats.JacobianEvaluations));
    }

    /// <summary>Robertson with its analytic Jacobian and its time derivative (zero: the kinetics are autonomous).</summary>
    private sealed class AutonomousRobertson : IJacobianDynamics<double>, ITimeDerivativeDynamics<double>
    {
        private readonly RobertsonWithJacobian inner = new();

        public int Dimension => 3;

        public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> d) => inner.Evaluate(t, y, d);

        public void Jacobian(double t, ReadOnlySpan<double> y, Span<double> j) => inner.Jacobian(t, y, j);

        public void TimeDerivative(double t, ReadOnlySpan<double> y, Span<double> dfdt) => dfdt.Clear();
    }

    [Test]
    public void AUsersTimeDerivative_SavesRosenbrocksDifferenceInTime()
    {
        // Rodas5P needs ∂f/∂t: given, it is one evaluation fewer per Jacobian; the same steps, the same accuracy.
        var (t1, y0, reference) = StiffProblems.Problem("rober");
        var options = new SolveOptions { Stepper = new Rosenbrock(RosenbrockTableaus.Rodas5P), RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-10, MaxSteps = 100_000 };
        var given = Ode.Solve(new AutonomousRobertson(), y0, SaveAt.End(0, t1), options);
        var differenced = Ode.Solve(new RobertsonWithJacobian(), y0, SaveAt.End(0, t1), options);
        TestContext.Out.WriteLine($"given ∂f/∂t: {given.Stats.FunctionEvaluations} evaluations / {given.Stats.AcceptedSteps} steps; differenced: {differenced.Stats.FunctionEvaluations} / {differenced.Stats.AcceptedSteps}");
        Assert.That(given.Stats.AcceptedSteps, Is.EqualTo(differenced.Stats.AcceptedSteps));
        Assert.That(given.Stats.FunctionEvaluations, Is.EqualTo(differenced.Stats.FunctionEvaluations - differenced.Stats.JacobianEvaluations));
        Assert.That(StiffProblems.ToleranceUnits(given.States[^1], reference, 1e-6, 1e-10), Is.LessThan(10));
    }

    [Test]
    public void ALambdaDeclaredAutonomous_SkipsRosenbrocksDifferenceInTime_WithTheSameSolution()
    {
        var (t1, y0, _) = StiffProblems.Problem("rober");
        var options = new SolveOptions { Stepper = new Rosenbrock(RosenbrockTableaus.Rodas5P), RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-10, MaxSteps = 100_000 };
        var declared = Ode.Solve(new FunctionDynamics<double>(3, StiffProblems.Functions["rober"]) { IsAutonomous = true }, y0, SaveAt.End(0, t1), options);
        var plain = Ode.Solve(new FunctionDynamics<double>(3, StiffProblems.Functions["rober"]), y0, SaveAt.End(0, t1), options);
        TestContext.Out.WriteLine($"declared autonomous: {declared.Stats.FunctionEvaluations} evaluations; not: {plain.Stats.FunctionEvaluations}");
        Assert.That(declared.States[^1].ToArray(), Is.EqualTo(plain.States[^1].ToArray()));
        Assert.That(declared.Stats.FunctionEvaluations, Is.EqualTo(plain.Stats.FunctionEvaluations - plain.Stats.JacobianEvaluations));
    }

    /// <summary>Robertson whose Jacobian is written as a 4 × 4 matrix: a layout error of the user's.</summary>
    private sealed class RobertsonWithAWrongSizedJacobian : IJacobianDynamics<double>
    {
        public int Dimension => 3;

        public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> d) => StiffProblems.Functions["rober"](t, y, d);

        public void Jacobian(double t, ReadOnlySpan<double> y, Span<double> j)
        {
            for (int i = 0; i < 16; i++) j[i] = i % 5 == 0 ? -1 : 0;
        }
    }

    [TestCaseSource(nameof(Methods))]
    public void AUsersJacobianOfTheWrongSize_IsAnArgumentErrorNamingTheLayout(IStepperFactory method)
    {
        var e = Assert.Throws<ArgumentException>(() => Ode.Solve(new RobertsonWithAWrongSizedJacobian(), [1.0, 0, 0], SaveAt.End(0, 1), new SolveOptions { Stepper = method }));
        Assert.That(e!.Message, Does.Contain("RobertsonWithAWrongSizedJacobian.Jacobian").And.Contain("9 entries").And.Contain("3 × 3"));
    }

    [Test]
    public void AJacobianWithANaN_IsATypedFailure()
    {
        var e = Assert.Throws<OdeSolverException>(() => Ode.Solve(new RobertsonWithJacobian(poisoned: true), [1.0, 0, 0], SaveAt.End(0, 1), new SolveOptions { Stepper = new Rosenbrock(RosenbrockTableaus.Rodas5P), MaxSteps = 1000 }));
        Assert.That(e!.Reason, Is.EqualTo(SolveFailure.SingularMatrix));
    }

    [Test]
    public void ExactJacobian_OfAnMlpOnABatch_MatchesCentralDifferences_BlockByBlock()
    {
        // 2 → 16 → 2 tanh applied to each of 8 rows: the Jacobian is 8 blocks of 2 × 2, from 2 VJPs.
        const int rows = 8, width = 2;
        var network = Mlp.Create<double>(width, [16], width, Activation.Tanh, TimeInput.Concat, 3);
        var f = new ExactJacobian<double>(new MlpDynamics<double>(network, rows));
        var random = new Random(4);
        double[] y = [.. Enumerable.Range(0, rows * width).Select(_ => random.NextDouble() * 2 - 1)];
        var exact = new double[rows * width * width];
        f.Jacobian(0.3, y, exact);
        double[] plus = new double[y.Length], minus = new double[y.Length], fp = new double[y.Length], fm = new double[y.Length];
        double worst = 0;
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < width; j++)
            {
                y.CopyTo(plus);
                y.CopyTo(minus);
                plus[r * width + j] += 1e-6;
                minus[r * width + j] -= 1e-6;
                f.Evaluate(0.3, plus, fp);
                f.Evaluate(0.3, minus, fm);
                for (int i = 0; i < width; i++)
                {
                    double central = (fp[r * width + i] - fm[r * width + i]) / 2e-6;
                    worst = Math.Max(worst, Math.Abs(central - exact[r * width * width + i * width + j]));
                }
            }
        }
        TestContext.Out.WriteLine($"max |exact − central difference| = {worst:G3}");
        Assert.That(worst, Is.LessThan(1e-8));
    }

    [Test]
    public void ExactJacobian_GivesTheSameStiffSolve_AsDifferences_WithFewerEvaluations()
    {
        // A learned field (the MLP on 8 rows), solved by Rodas5P with the exact block Jacobian and with differences.
        const int rows = 8, width = 2;
        var network = Mlp.Create<double>(width, [16], width, Activation.Tanh, TimeInput.Concat, 5);
        var mlp = new MlpDynamics<double>(network, rows);
        var y0 = Enumerable.Range(0, rows * width).Select(i => 0.1 * (i % 5) - 0.2).ToArray();
        var options = new SolveOptions { Stepper = new Rosenbrock(RosenbrockTableaus.Rodas5P), RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-10 };
        var exact = Ode.Solve(new ExactJacobian<double>(mlp), y0, SaveAt.End(0, 2), options);
        var differenced = Ode.Solve(mlp, y0, SaveAt.End(0, 2), options);
        double difference = exact.States[^1].ToArray().Zip(differenced.States[^1].ToArray(), (a, b) => Math.Abs(a - b)).Max();
        TestContext.Out.WriteLine($"exact {exact.Stats.FunctionEvaluations} evaluations / {exact.Stats.AcceptedSteps} steps, differences {differenced.Stats.FunctionEvaluations} / {differenced.Stats.AcceptedSteps}; max difference {difference:G3}");
        Assert.That(difference, Is.LessThan(1e-7));
        Assert.That(exact.Stats.FunctionEvaluations, Is.LessThan(differenced.Stats.FunctionEvaluations));
    }
}
