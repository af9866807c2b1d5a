using NeuralOde.Core;
using NeuralOde.Core.Solvers;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Solvers;

/// <summary>AutoSwitch: explicit where the problem is not stiff, Rodas5P where it is, and the switches between.</summary>
public class AutoSwitchTests
{
    private static SolveOptions Options(double rtol) =>
        new() { Stepper = new AutoSwitch(), RelativeTolerance = rtol, AbsoluteTolerance = 1e-4 * rtol, MaxSteps = 100_000 };

    [TestCase("rober")]
    [TestCase("vdpolm")]
    [TestCase("hires")]
    public void StiffProblems_AreSolvedByTheSwitch_WithinAHundredToleranceUnits(string name)
    {
        var (t1, y0, reference) = StiffProblems.Problem(name);
        var f = new FuncDynamics<double>(y0.Length, StiffProblems.Rhs[name]);
        var sol = Ode.Solve(f, y0, SaveAt.End(0, t1), Options(1e-6));
        var st = sol.Stats;
        double units = StiffProblems.ToleranceUnits(sol.States[^1], reference, 1e-6, 1e-10);
        TestContext.Out.WriteLine($"{name}: {units:G3} tolerance units, {st.AcceptedSteps} steps, {st.RejectedSteps} rejected, {st.FunctionEvaluations} evaluations, {st.JacobianEvaluations} Jacobians, {st.MethodSwitches} switches");
        Assert.That(units, Is.LessThan(100));
        Assert.That(st.MethodSwitches, Is.GreaterThanOrEqualTo(1), "it must have left the explicit method");
        Assert.That(st.JacobianEvaluations, Is.LessThan(st.AcceptedSteps + st.RejectedSteps), "some steps stayed explicit");
    }

    [Test]
    public void VanDerPol_SwitchesBackToTheExplicitMethod_OnItsFastTransitions()
    {
        // The relaxation oscillation alternates slow stiff arcs and fast non-stiff jumps.
        var (t1, y0, _) = StiffProblems.Problem("vdpolm");
        var f = new FuncDynamics<double>(2, StiffProblems.Rhs["vdpolm"]);
        var st = Ode.Solve(f, y0, SaveAt.End(0, t1), Options(1e-6)).Stats;
        Assert.That(st.MethodSwitches, Is.GreaterThanOrEqualTo(3), $"{st.MethodSwitches} switches");
    }

    [Test]
    public void ANonStiffProblem_NeverLeavesTheExplicitMethod_AndMatchesItExactly()
    {
        var f = new FuncDynamics<double>(3, (t, y, d) =>
        {
            d[0] = 10 * (y[1] - y[0]);
            d[1] = y[0] * (28 - y[2]) - y[1];
            d[2] = y[0] * y[1] - 8.0 / 3 * y[2];
        });
        double[] times = [.. Enumerable.Range(0, 21).Select(i => i * 0.5)];
        var auto = Ode.Solve(f, [1.0, 1.0, 1.0], SaveAt.Times(times), Options(1e-8));
        var plain = Ode.Solve(f, [1.0, 1.0, 1.0], SaveAt.Times(times), new SolveOptions { Method = Tableaus.Tsitouras54, RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-12, MaxSteps = 100_000 });
        Assert.That(auto.Stats.MethodSwitches, Is.Zero);
        Assert.That((auto.Stats.AcceptedSteps, auto.Stats.RejectedSteps, auto.Stats.FunctionEvaluations), Is.EqualTo((plain.Stats.AcceptedSteps, plain.Stats.RejectedSteps, plain.Stats.FunctionEvaluations)));
        // The same steps, and the saved times from the same continuous extension: bitwise the explicit method's solution.
        Assert.That(auto.Values.ToArray(), Is.EqualTo(plain.Values.ToArray()));
    }

    [Test]
    public void ANonDetectingMethod_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => new AutoSwitch(Tableaus.BogackiShampine32));
        Assert.That(e!.Message, Does.Contain("cannot detect stiffness"));
    }

    [Test]
    public void StepsAfterTheFirst_AllocateNothing() =>
        Assert.That(StiffStepperChecks.WarmStepBytes(new AutoSwitch(), "vdpolm", warmSteps: 50, rtol: 1e-8), Is.Zero);
}
