using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.Core;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Solvers;

/// <summary>Kværnø's ESDIRK methods: their coefficients' algebra, observed orders, Newton's failures, and the stiff reference problems.</summary>
public class EsdirkTests
{
    public static readonly EsdirkTableau[] Tableaus = [EsdirkTableaus.TrBdf2, EsdirkTableaus.Kvaerno3, EsdirkTableaus.Kvaerno4, EsdirkTableaus.Kvaerno5];

    public static readonly EsdirkTableau[] FourthOrderAndAbove = [EsdirkTableaus.Kvaerno4, EsdirkTableaus.Kvaerno5];

    private static SolveOptions Adaptive(EsdirkTableau tableau, double rtol) =>
        new() { Stepper = new Esdirk(tableau), RelativeTolerance = rtol, AbsoluteTolerance = 1e-4 * rtol, MaxSteps = 200_000 };

    // With a fixed step the tolerances only stop Newton: tight, so the iteration error stays below the truncation error.
    private static SolveOptions Fixed(EsdirkTableau tableau, double h) =>
        new() { Stepper = new Esdirk(tableau), StepSize = new FixedStep(h), RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-12 };

    private static double A(EsdirkTableau t, int i, int j) => j < i ? t.A(i)[j] : j == i && i > 0 ? t.Gamma : 0;

    [TestCaseSource(nameof(Tableaus))]
    public void OrderConditions_HoldUpToTheOrder_ForTheSolutionAndTheEmbeddedOne(EsdirkTableau tableau)
    {
        int s = tableau.Stages;
        double[] b = tableau.B.ToArray();
        double[] bHat = [.. b.Zip(tableau.BError.ToArray(), (x, e) => x - e)];
        for (int p = 1; p <= tableau.Order; p++)
            Assert.That(ButcherTrees.MaxDefect(s, (i, j) => A(tableau, i, j), b, p), Is.LessThan(1e-10), $"{tableau}: order {p}");
        Assert.That(ButcherTrees.MaxDefect(s, (i, j) => A(tableau, i, j), b, tableau.Order + 1), Is.GreaterThan(1e-8), $"{tableau} should not reach order {tableau.Order + 1}");
        for (int p = 1; p <= tableau.EmbeddedOrder; p++)
            Assert.That(ButcherTrees.MaxDefect(s, (i, j) => A(tableau, i, j), bHat, p), Is.LessThan(1e-10), $"{tableau}: embedded order {p}");
    }

    [TestCaseSource(nameof(Tableaus))]
    public void Method_IsLStable(EsdirkTableau tableau)
    {
        // R(z) = 1 + z·bᵀ(I − zA)⁻¹𝟙; stiffly accurate, so R(∞) = 0; A-stable: |R(iy)| ≤ 1.
        Complex R(Complex z)
        {
            int s = tableau.Stages;
            var x = new Complex[s];
            for (int i = 0; i < s; i++)
            {
                Complex sum = 1;
                for (int j = 0; j < i; j++) sum += z * A(tableau, i, j) * x[j];
                x[i] = sum / (1 - z * A(tableau, i, i));
            }
            Complex r = 1;
            for (int i = 0; i < s; i++) r += z * tableau.B[i] * x[i];
            return r;
        }
        Assert.That(R(-1e12).Magnitude, Is.LessThan(1e-9));
        double worst = 0;
        for (int k = 0; k <= 4000; k++) worst = Math.Max(worst, R(new Complex(0, Math.Pow(10, -3 + 9.0 * k / 4000))).Magnitude);
        TestContext.Out.WriteLine($"{tableau}: max |R(iy)| = {worst:R}");
        Assert.That(worst, Is.LessThanOrEqualTo(1 + 1e-12));
    }

    [TestCaseSource(nameof(Tableaus))]
    public void FixedSteps_ConvergeAtTheMethodsOrder_OnANonlinearNonAutonomousClosedForm(EsdirkTableau tableau)
    {
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -(y[0] * y[0] - (2 + Math.Sin(t)) * (2 + Math.Sin(t))) + Math.Cos(t));
        double Error(double h) => Math.Abs(Ode.Solve(f, [2.0], SaveAt.End(0, 4), Fixed(tableau, h)).States[^1][0] - (2 + Math.Sin(4)));
        // From h = 0.2: at 0.4 Kvaerno 4's Newton on the frozen Jacobian does not converge in 10 iterations (measured).
        double[] hs = [0.2, 0.1, 0.05, 0.025];
        double[] errors = [.. hs.Select(Error)];
        double[] orders = [.. Enumerable.Range(0, hs.Length - 1).Select(i => Math.Log2(errors[i] / errors[i + 1]))];
        TestContext.Out.WriteLine($"{tableau}: errors {string.Join(" ", errors.Select(e => e.ToString("G3")))}, observed orders {string.Join(" ", orders.Select(o => o.ToString("F2")))}");
        Assert.That(orders[^1], Is.GreaterThan(tableau.Order - 0.3));
    }

    [TestCaseSource(nameof(FourthOrderAndAbove))]
    public void StiffReferenceProblems_ReachTheirReference_WithinAHundredToleranceUnits(EsdirkTableau tableau) =>
        StiffStepperChecks.ReachTheReferences(tableau.Name, new Esdirk(tableau));

    [Test]
    public void Kvaerno3_SolvesRobertson()
    {
        var (t1, y0, reference) = StiffProblems.Problem("rober");
        var f = new FuncDynamics<double>(3, StiffProblems.Rhs["rober"]);
        var sol = Ode.Solve(f, y0, SaveAt.End(0, t1), Adaptive(EsdirkTableaus.Kvaerno3, 1e-6));
        double units = StiffProblems.ToleranceUnits(sol.States[^1], reference, 1e-6, 1e-10);
        TestContext.Out.WriteLine($"Kvaerno 3(2) Robertson rtol 1e-6: {units:G3} tolerance units, {sol.Stats.AcceptedSteps} steps");
        Assert.That(units, Is.LessThan(100));
    }

    [Test]
    public void Newton_ThatCannotConverge_EndsInATypedFailure_NotAHang()
    {
        // f oscillates a million times per unit of y: the frozen Jacobian says nothing about it, Newton wanders.
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -10 * y[0] + 1e3 * Math.Sin(1e6 * y[0]));
        var e = Assert.Throws<OdeSolverException>(() => Ode.Solve(f, [1.0], SaveAt.End(0, 1), new SolveOptions { Stepper = new Esdirk(EsdirkTableaus.Kvaerno5), StepSize = new FixedStep(0.1) }));
        TestContext.Out.WriteLine(e!.Message);
        Assert.That((e.Reason, e.StepCount), Is.EqualTo((SolveFailure.NewtonDidNotConverge, 1)));
        Assert.That(e.Message, Does.Contain("Newton"));
    }

    [Test]
    public void ASingularMatrix_IsReportedAsSuch()
    {
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = y[0] == 1 ? -1 : double.NaN);
        var e = Assert.Throws<OdeSolverException>(() => Ode.Solve(f, [1.0], SaveAt.End(0, 1), new SolveOptions { Stepper = new Esdirk(EsdirkTableaus.Kvaerno4), MaxSteps = 1000 }));
        Assert.That(e!.Reason, Is.EqualTo(SolveFailure.SingularMatrix));
    }

    // A float forward-difference Jacobian is good to √ε ≈ 3e-4 only: within the stiff problems' bar of 100 units.
    [TestCaseSource(nameof(Tableaus))]
    public void Float_SolvesRobertson(EsdirkTableau tableau) =>
        Assert.That(StiffStepperChecks.FloatRobertsonUnits(new Esdirk(tableau)), Is.LessThan(100));

    [TestCaseSource(nameof(Tableaus))]
    public void StepsAfterTheFirst_AllocateNothing(EsdirkTableau tableau) =>
        Assert.That(StiffStepperChecks.WarmStepBytes(new Esdirk(tableau)), Is.Zero);

    [TestCaseSource(nameof(Tableaus))]
    public void ProtheroRobinson_FixedSteps_ShowTheStageOrderLimit(EsdirkTableau tableau)
    {
        // λ = −1e6: in the stiff limit an ESDIRK method converges at its stage order, not its classical order; Kværnø's
        // methods have stage order 2 (explicit first stage, c_2 = 2γ). Measured on h = 0.2 … 0.025: orders 1.83 … 1.98
        // for all three, from errors of at most 1.03e-9 (the reduced terms carry a factor 1/|λ|).
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -1e6 * (y[0] - Math.Sin(t)) + Math.Cos(t));
        double Error(double h) => Math.Abs(Ode.Solve(f, [0.0], SaveAt.End(0, 2), Fixed(tableau, h)).States[^1][0] - Math.Sin(2));
        double[] hs = [0.2, 0.1, 0.05, 0.025];
        double[] errors = [.. hs.Select(Error)];
        double[] orders = [.. Enumerable.Range(0, hs.Length - 1).Select(i => Math.Log2(errors[i] / errors[i + 1]))];
        TestContext.Out.WriteLine($"{tableau} Prothero–Robinson: errors {string.Join(" ", errors.Select(e => e.ToString("G3")))}, observed orders {string.Join(" ", orders.Select(o => o.ToString("F2")))}");
        Assert.That(errors.Max(), Is.LessThan(2e-9));
        Assert.That(orders.Min(), Is.GreaterThan(1.75));
    }
}
