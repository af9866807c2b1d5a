using NeuralOde.AutoDiff;
using NeuralOde.Core;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Solvers;

/// <summary>Rosenbrock 2(3) (Shampine–Reichelt) against closed forms and the stiff reference problems of Data/stiffproblems.json.</summary>
public class Rosenbrock23Tests
{
    private static SolveOptions Options(double rtol) => new() { Stepper = new Rosenbrock23(), RelativeTolerance = rtol, AbsoluteTolerance = 1e-4 * rtol, MaxSteps = 200_000 };

    [TestCase("rober")]
    [TestCase("vdpolm")]
    [TestCase("stiff_linear4")]
    [TestCase("prothero_robinson")]
    public void StiffReferenceProblems_AreSolvedInFewSteps_AndTheErrorFallsWithTheTolerance(string name)
    {
        var (t1, y0, reference) = StiffProblems.Problem(name);
        var f = new FuncDynamics<double>(y0.Length, StiffProblems.Rhs[name]);
        var errors = new List<double>();
        foreach (double rtol in new[] { 1e-4, 1e-6 })
        {
            var sol = Ode.Solve(f, y0, SaveAt.End(0, t1), Options(rtol));
            double units = StiffProblems.ToleranceUnits(sol.States[^1], reference, rtol, 1e-4 * rtol);
            double absolute = StiffProblems.ToleranceUnits(sol.States[^1], reference, 0, 1);
            errors.Add(absolute);
            TestContext.Out.WriteLine($"{name} rtol {rtol:G}: {units:G3} tolerance units (max abs error {absolute:G3}), {sol.Stats.AcceptedSteps} steps, {sol.Stats.RejectedSteps} rejected, {sol.Stats.FunctionEvaluations} evaluations");
            // A second-order method: bounded in tolerance units, and thousands of steps where an explicit method needs millions.
            Assert.That(units, Is.LessThan(1000), $"{name} at rtol {rtol}");
            Assert.That(sol.Stats.AcceptedSteps, Is.LessThan(50_000), $"{name} at rtol {rtol}");
        }
        Assert.That(errors[1], Is.LessThan(errors[0]), "the error falls as rtol falls");
    }

    [Test]
    public void FixedSteps_ConvergeAtSecondOrder_OnANonAutonomousClosedForm()
    {
        // y' = −2(y − sin t) + cos t, y(0) = 0: y = sin t; the time derivative term matters (non-autonomous).
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -2 * (y[0] - Math.Sin(t)) + Math.Cos(t));
        double Error(double h) => Math.Abs(Ode.Solve(f, [0.0], SaveAt.End(0, 1), new SolveOptions { Stepper = new Rosenbrock23(), StepSize = new FixedStep(h) }).States[^1][0] - Math.Sin(1));
        double e1 = Error(0.05), e2 = Error(0.025), e3 = Error(0.0125);
        double order1 = Math.Log2(e1 / e2), order2 = Math.Log2(e2 / e3);
        TestContext.Out.WriteLine($"errors {e1:G3} {e2:G3} {e3:G3}: observed orders {order1:F2} {order2:F2}");
        Assert.That(order2, Is.EqualTo(2).Within(0.2));
    }

    [Test]
    public void DenseOutput_IsTheMethodsContinuousExtension_AccurateInsideSteps_WithoutExtraSteps()
    {
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -1e6 * (y[0] - Math.Sin(t)) + Math.Cos(t));
        double[] times = [.. Enumerable.Range(0, 41).Select(i => i * 0.25)];
        var options = new SolveOptions { Stepper = new Rosenbrock23(), RelativeTolerance = 1e-5, AbsoluteTolerance = 1e-9 };
        var sol = Ode.Solve(f, [0.0], SaveAt.Times(times), options);
        var endOnly = Ode.Solve(f, [0.0], SaveAt.End(0, 10), options);
        double worst = 0;
        for (int i = 0; i < times.Length; i++) worst = Math.Max(worst, Math.Abs(sol.States[i][0] - Math.Sin(times[i])));
        TestContext.Out.WriteLine($"worst interpolated error {worst:G3} over {times.Length} outputs, {sol.Stats.AcceptedSteps} steps");
        Assert.That(sol.Stats.AcceptedSteps, Is.EqualTo(endOnly.Stats.AcceptedSteps), "outputs are interpolated, not stepped to");
        Assert.That(worst, Is.LessThan(1e-5));
    }

    [Test]
    public void Float_SolvesRobertson() => Assert.That(StiffStepperChecks.FloatRobertsonUnits(new Rosenbrock23()), Is.LessThan(10));

    [Test]
    public void ANonFiniteJacobian_RejectsUntilATypedFailure_NotAHang()
    {
        // f is NaN away from y = 1: every W is non-finite, every step rejected; the loop stops with a typed reason.
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = y[0] == 1 ? -1 : double.NaN);
        var e = Assert.Throws<OdeSolverException>(() => Ode.Solve(f, [1.0], SaveAt.End(0, 1), new SolveOptions { Stepper = new Rosenbrock23(), MaxSteps = 1000 }));
        TestContext.Out.WriteLine(e!.Message);
        Assert.That(e.Reason, Is.EqualTo(SolveFailure.SingularMatrix));
    }

    [Test]
    public void StepsAfterTheFirst_AllocateNothing() => Assert.That(StiffStepperChecks.WarmStepBytes(new Rosenbrock23(), rtol: 1e-6), Is.Zero);

    [Test]
    public void DenseLu_SolvesAPivotingSystem_AndReportsASingularOne()
    {
        var lu = new DenseLu(3);
        double[] a = [0, 2, 1, 1, 1, 1, 4, -1, 3];
        a.CopyTo(lu.Matrix);
        Assert.That(lu.Factor(), Is.True);
        double[] x = [1, -2, 0.5];
        double[] b = [a[0] * x[0] + a[1] * x[1] + a[2] * x[2], a[3] * x[0] + a[4] * x[1] + a[5] * x[2], a[6] * x[0] + a[7] * x[1] + a[8] * x[2]];
        lu.Solve(b);
        Assert.That(b, Is.EqualTo(x).Within(1e-14));
        double[] singular = [1, 2, 3, 2, 4, 6, 1, 0, 1];
        singular.CopyTo(lu.Matrix);
        Assert.That(lu.Factor(), Is.False);
    }

    [Test]
    public void DenseLu_TransposedSolve_AgreesWithMathNetOnTheTransposedMatrix()
    {
        // A random 7 × 7 with a small leading diagonal, so partial pivoting swaps rows; MathNet solves Aᵀx = b itself.
        const int n = 7;
        var random = new Random(5);
        double[] a = [.. Enumerable.Range(0, n * n).Select(_ => random.NextDouble() * 2 - 1)];
        for (int i = 0; i < n; i++) a[i * n + i] *= 1e-3;
        double[] b = [.. Enumerable.Range(0, n).Select(_ => random.NextDouble() * 2 - 1)];
        var lu = new DenseLu(n);
        a.CopyTo(lu.Matrix);
        Assert.That(lu.Factor(), Is.True);
        double[] x = [.. b];
        lu.SolveTransposed(x);
        var matrix = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, n, (i, j) => a[i * n + j]);
        var expected = matrix.Transpose().Solve(MathNet.Numerics.LinearAlgebra.Vector<double>.Build.DenseOfArray(b));
        for (int i = 0; i < n; i++) Assert.That(x[i], Is.EqualTo(expected[i]).Within(1e-12 * expected.AbsoluteMaximum()), $"x[{i}]");
    }
}
