using NeuralOde.Core;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Solvers;

/// <summary>The tableau-driven Rosenbrock methods (Rodas4, Rodas5P): their coefficients' algebra, observed orders, and the stiff reference problems.</summary>
public class RosenbrockTests
{
    public static readonly RosenbrockTableau[] Tableaus = [RosenbrockTableaus.Rodas4, RosenbrockTableaus.Rodas5P];

    private static SolveOptions Adaptive(RosenbrockTableau tableau, double rtol) =>
        new() { Stepper = new Rosenbrock(tableau), RelativeTolerance = rtol, AbsoluteTolerance = 1e-4 * rtol, MaxSteps = 200_000 };

    private static SolveOptions Fixed(RosenbrockTableau tableau, double h) => new() { Stepper = new Rosenbrock(tableau), StepSize = new FixedStep(h) };

    /// <summary>R(z) = 1 + z·bᵀ(I − zB)⁻¹𝟙 with B = α + Γ: the step's factor on y' = λy, z = hλ (complex).</summary>
    private static System.Numerics.Complex Stability(RosenbrockTableau tableau, System.Numerics.Complex z)
    {
        int s = tableau.Stages;
        // Solve (I − zB)x = 𝟙 by forward substitution (B is lower triangular).
        var x = new System.Numerics.Complex[s];
        for (int i = 0; i < s; i++)
        {
            System.Numerics.Complex sum = 1;
            ReadOnlySpan<double> alpha = tableau.Alpha(i), gamma = tableau.GammaRow(i);
            for (int j = 0; j < i; j++) sum += z * (alpha[j] + gamma[j]) * x[j];
            x[i] = sum / (1 - z * gamma[i]);
        }
        System.Numerics.Complex r = 1;
        for (int i = 0; i < s; i++) r += z * tableau.B[i] * x[i];
        return r;
    }

    [TestCaseSource(nameof(Tableaus))]
    public void LinearOrderConditions_HoldToTheMethodsOrder(RosenbrockTableau tableau)
    {
        // bᵀB^{k−1}𝟙 = 1/k! for k ≤ p: R(z) agrees with e^z to order p.
        int s = tableau.Stages;
        double[] v = [.. Enumerable.Repeat(1.0, s)];
        double factorial = 1;
        for (int k = 1; k <= tableau.Order + 1; k++)
        {
            factorial *= k;
            double bv = 0;
            for (int i = 0; i < s; i++) bv += tableau.B[i] * v[i];
            if (k <= tableau.Order) Assert.That(bv, Is.EqualTo(1 / factorial).Within(1e-9 / factorial), $"{tableau.Name}: k = {k}");
            TestContext.Out.WriteLine($"{tableau.Name} k = {k}: bᵀB^(k−1)𝟙 = {bv:R}, 1/k! = {1 / factorial:R}");
            var next = new double[s];
            for (int i = 0; i < s; i++)
            {
                ReadOnlySpan<double> alpha = tableau.Alpha(i), gamma = tableau.GammaRow(i);
                for (int j = 0; j < i; j++) next[i] += (alpha[j] + gamma[j]) * v[j];
                next[i] += gamma[i] * v[i];
            }
            v = next;
        }
    }

    [TestCaseSource(nameof(Tableaus))]
    public void Method_IsStifflyAccurate_AndLStable(RosenbrockTableau tableau)
    {
        int s = tableau.Stages;
        // Stiffly accurate: b is the last row of B = α + Γ, so R(∞) = 0.
        for (int j = 0; j < s; j++)
        {
            double last = tableau.Alpha(s - 1)[j] + tableau.GammaRow(s - 1)[j];
            Assert.That(tableau.B[j], Is.EqualTo(last).Within(1e-10), $"{tableau.Name}: b_{j}");
        }
        Assert.That(Stability(tableau, -1e12).Magnitude, Is.LessThan(1e-9), "R(−∞) = 0");
        // A-stable: |R| ≤ 1 on the imaginary axis (and R has no poles in the left half-plane, since its poles are 1/γ > 0).
        double worst = 0;
        for (int k = 0; k <= 4000; k++)
        {
            double y = Math.Pow(10, -3 + 9.0 * k / 4000);
            worst = Math.Max(worst, Stability(tableau, new System.Numerics.Complex(0, y)).Magnitude);
        }
        TestContext.Out.WriteLine($"{tableau.Name}: max |R(iy)| over y in [1e-3, 1e6] = {worst:R}");
        Assert.That(worst, Is.LessThanOrEqualTo(1 + 1e-12));
    }

    [Test]
    public void AMistypedCoefficient_IsRefusedByTheConsistencyChecks()
    {
        var t = RosenbrockTableaus.Rodas4;
        double[][] a = [.. Enumerable.Range(0, t.Stages).Select(i => t.A(i).ToArray())];
        double[][] c = [.. Enumerable.Range(0, t.Stages).Select(i => t.CMatrix(i).ToArray())];
        double[][] h = [.. Enumerable.Range(0, t.DenseRows).Select(i => t.Dense(i).ToArray())];
        Assert.DoesNotThrow(() => new RosenbrockTableau("copy", t.Gamma, a, c, t.C.ToArray(), t.D.ToArray(), t.M.ToArray(), t.MError.ToArray(), 4, 3, h, 3));
        a[2][1] += 1e-6;
        var e = Assert.Throws<ArgumentException>(() => new RosenbrockTableau("typo", t.Gamma, a, c, t.C.ToArray(), t.D.ToArray(), t.M.ToArray(), t.MError.ToArray(), 4, 3, h, 3));
        Assert.That(e!.Message, Does.Contain("c[2]"));
    }

    [TestCaseSource(nameof(Tableaus))]
    public void FixedSteps_ConvergeAtTheMethodsOrder_OnANonlinearNonAutonomousClosedForm(RosenbrockTableau tableau)
    {
        // y' = −(y² − (2 + sin t)²) + cos t, y(0) = 2: y = 2 + sin t (the ∂f/∂t term and the nonlinearity both matter).
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -(y[0] * y[0] - (2 + Math.Sin(t)) * (2 + Math.Sin(t))) + Math.Cos(t));
        double Error(double h) => Math.Abs(Ode.Solve(f, [2.0], SaveAt.End(0, 4), Fixed(tableau, h)).States[^1][0] - (2 + Math.Sin(4)));
        double[] hs = [0.4, 0.2, 0.1, 0.05, 0.025];
        double[] errors = [.. hs.Select(Error)];
        double[] orders = [.. Enumerable.Range(0, hs.Length - 1).Select(i => Math.Log2(errors[i] / errors[i + 1]))];
        TestContext.Out.WriteLine($"{tableau.Name}: errors {string.Join(" ", errors.Select(e => e.ToString("G3")))}, observed orders {string.Join(" ", orders.Select(o => o.ToString("F2")))}");
        Assert.That(orders.Max(), Is.GreaterThan(tableau.Order - 0.3));
    }

    [TestCaseSource(nameof(Tableaus))]
    public void StiffReferenceProblems_ReachTheirReference_WithinAHundredToleranceUnits(RosenbrockTableau tableau) =>
        StiffStepperChecks.ReachTheReferences(tableau.Name, new Rosenbrock(tableau));

    [TestCaseSource(nameof(Tableaus))]
    public void DenseOutput_IsAccurateInsideSteps_WithoutExtraSteps(RosenbrockTableau tableau)
    {
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -(y[0] * y[0] - (2 + Math.Sin(t)) * (2 + Math.Sin(t))) + Math.Cos(t));
        double[] times = [.. Enumerable.Range(0, 81).Select(i => i * 0.05)];
        var options = Adaptive(tableau, 1e-8);
        var sol = Ode.Solve(f, [2.0], SaveAt.Times(times), options);
        var endOnly = Ode.Solve(f, [2.0], SaveAt.End(0, 4), options);
        double worst = 0;
        for (int i = 0; i < times.Length; i++) worst = Math.Max(worst, Math.Abs(sol.States[i][0] - (2 + Math.Sin(times[i]))));
        TestContext.Out.WriteLine($"{tableau.Name}: worst interpolated error {worst:G3} over {times.Length} outputs, {sol.Stats.AcceptedSteps} steps");
        Assert.That(sol.Stats.AcceptedSteps, Is.EqualTo(endOnly.Stats.AcceptedSteps), "outputs are interpolated, not stepped to");
        Assert.That(worst, Is.LessThan(1e-6));
    }

    [TestCaseSource(nameof(Tableaus))]
    public void Float_SolvesRobertson(RosenbrockTableau tableau) =>
        Assert.That(StiffStepperChecks.FloatRobertsonUnits(new Rosenbrock(tableau)), Is.LessThan(10));

    [TestCaseSource(nameof(Tableaus))]
    public void ASingularMatrix_RejectsTheStep_UntilATypedFailure(RosenbrockTableau tableau)
    {
        // f is NaN away from y = 1: every I − hγJ is non-finite, every step rejected; the loop stops with a typed reason.
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = y[0] == 1 ? -1 : double.NaN);
        var e = Assert.Throws<OdeSolverException>(() => Ode.Solve(f, [1.0], SaveAt.End(0, 1), new SolveOptions { Stepper = new Rosenbrock(tableau), MaxSteps = 1000 }));
        Assert.That(e!.Reason, Is.EqualTo(SolveFailure.SingularMatrix));
        Assert.That(e.Message, Does.Contain("I − hγJ"));
        // With a fixed step there is nothing to shrink: the first refused step ends the solve, never a silent y1 = y0.
        var fixedStep = Assert.Throws<OdeSolverException>(() => Ode.Solve(f, [1.0], SaveAt.End(0, 1), Fixed(tableau, 0.1)));
        Assert.That((fixedStep!.Reason, fixedStep.StepCount), Is.EqualTo((SolveFailure.SingularMatrix, 1)));
    }

    [TestCaseSource(nameof(Tableaus))]
    public void StepsAfterTheFirst_AllocateNothing(RosenbrockTableau tableau) =>
        Assert.That(StiffStepperChecks.WarmStepBytes(new Rosenbrock(tableau)), Is.Zero);

    [TestCaseSource(nameof(Tableaus))]
    public void Statistics_CountOneJacobianPerStartingPoint_AndOneFactorisationPerAttempt(RosenbrockTableau tableau)
    {
        var (t1, y0, _) = StiffProblems.Problem("rober");
        var f = new FuncDynamics<double>(3, StiffProblems.Rhs["rober"]);
        var stats = Ode.Solve(f, y0, SaveAt.End(0, t1), Adaptive(tableau, 1e-6)).Stats;
        var explicitStats = Ode.Solve(f, y0, SaveAt.End(0, 1e-3), new SolveOptions()).Stats;
        TestContext.Out.WriteLine($"{tableau.Name}: {stats}, {stats.JacobianEvaluations} Jacobians, {stats.Factorizations} LUs");
        int attempted = stats.AcceptedSteps + stats.RejectedSteps;
        // A step retried after a rejection starts where the rejected one did: same Jacobian, new factorisation.
        Assert.That(stats.RejectedSteps, Is.GreaterThan(0), "the check needs a rejection to mean anything");
        Assert.That(stats.JacobianEvaluations, Is.EqualTo(stats.AcceptedSteps));
        Assert.That(stats.Factorizations, Is.EqualTo(attempted));
        // Each attempt: the stages after the first; each starting point: f0 and n + 1 evaluations for ∂f/∂y and ∂f/∂t.
        Assert.That(stats.FunctionEvaluations, Is.GreaterThanOrEqualTo(attempted * (tableau.Stages - 1L) + stats.AcceptedSteps * 4L));
        Assert.That((explicitStats.JacobianEvaluations, explicitStats.Factorizations), Is.EqualTo((0L, 0L)));
    }

    [Test]
    public void SolveDenseOutput_WithAStiffStepper_IsItsHermiteSolution()
    {
        // The whole-solve interpolant stores a stiff stepper's steps for Hermite (it once read them as tableau stages).
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -(y[0] * y[0] - (2 + Math.Sin(t)) * (2 + Math.Sin(t))) + Math.Cos(t));
        var sol = Ode.Solve(f, [2.0], SaveAt.End(0, 4), new SolveOptions { Stepper = new Rosenbrock(RosenbrockTableaus.Rodas5P), RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-10, DenseOutput = true });
        var y = new double[1];
        double worst = 0;
        for (int i = 0; i <= 80; i++)
        {
            sol.Dense!.Evaluate(i * 0.05, y);
            worst = Math.Max(worst, Math.Abs(y[0] - (2 + Math.Sin(i * 0.05))));
        }
        TestContext.Out.WriteLine($"worst dense-output error {worst:G3} over {sol.Dense!.StepCount} steps");
        Assert.That(worst, Is.LessThan(1e-6));
    }
}
