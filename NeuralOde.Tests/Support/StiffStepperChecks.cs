using NeuralOde.AutoDiff;
using NeuralOde.Core;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;

namespace NeuralOde.Tests.Support;

/// <summary>The checks every stiff stepper goes through, written once: the reference problems, float, warm steps, a mild gradient.</summary>
internal static class StiffStepperChecks
{
    /// <summary>
    /// Every stiff reference problem at rtol 1e-4, 1e-6 and 1e-8 (atol = 1e-4·rtol): within max(100, 10× scipy Radau's
    /// error) tolerance units at rtol ≤ 1e-6, and the absolute error falls from 1e-4 to 1e-8.
    /// </summary>
    public static void ReachTheReferences(string label, IStepperFactory method)
    {
        foreach (string name in new[] { "rober", "hires", "vdpolm", "stiff_linear4", "prothero_robinson" })
        {
            var (t1, y0, reference) = StiffProblems.Problem(name);
            var f = new FuncDynamics<double>(y0.Length, StiffProblems.Rhs[name]);
            var absolute = new List<double>();
            foreach (double rtol in new[] { 1e-4, 1e-6, 1e-8 })
            {
                var sol = Ode.Solve(f, y0, SaveAt.End(0, t1), new SolveOptions { Stepper = method, RelativeTolerance = rtol, AbsoluteTolerance = 1e-4 * rtol, MaxSteps = 200_000 });
                double units = StiffProblems.ToleranceUnits(sol.States[^1], reference, rtol, 1e-4 * rtol);
                absolute.Add(StiffProblems.ToleranceUnits(sol.States[^1], reference, 0, 1));
                var st = sol.Stats;
                string scipy = rtol == 1e-4 ? "" : $" (scipy Radau {StiffProblems.ScipyToleranceUnits(name, "Radau", rtol):G3}, BDF {StiffProblems.ScipyToleranceUnits(name, "BDF", rtol):G3}, LSODA {StiffProblems.ScipyToleranceUnits(name, "LSODA", rtol):G3})";
                TestContext.Out.WriteLine($"{label} {name} rtol {rtol:G}: {units:G3} tolerance units{scipy}, {st.AcceptedSteps} steps, {st.RejectedSteps} rejected, {st.FunctionEvaluations} evaluations, {st.JacobianEvaluations} Jacobians, {st.Factorizations} LUs, {st.NewtonIterations} Newton iterations");
                if (rtol <= 1e-6)
                    Assert.That(units, Is.LessThan(Math.Max(100, 10 * StiffProblems.ScipyToleranceUnits(name, "Radau", rtol))), $"{label} {name} at rtol {rtol}");
            }
            Assert.That(absolute[2], Is.LessThan(absolute[0]), $"{label} {name}: the error falls as rtol falls");
        }
    }

    /// <summary>Robertson in float at rtol 1e-3, atol 1e-7: the error at t1 in tolerance units.</summary>
    public static double FloatRobertsonUnits(IStepperFactory method)
    {
        var (t1, y0, reference) = StiffProblems.Problem("rober");
        var f = new FuncDynamics<float>(3, StiffProblems.Rhs["rober"]);
        var sol = Ode.Solve(f, y0.Select(v => (float)v).ToArray(), SaveAt.End(0, t1), new SolveOptions { Stepper = method, RelativeTolerance = 1e-3, AbsoluteTolerance = 1e-7 });
        double[] y = [.. sol.Values[^3..].ToArray().Select(v => (double)v)];
        double units = StiffProblems.ToleranceUnits(y, reference, 1e-3, 1e-7);
        TestContext.Out.WriteLine($"{method} float Robertson: {units:G3} tolerance units, {sol.Stats.AcceptedSteps} steps");
        return units;
    }

    /// <summary>Bytes allocated by the quietest of 4 windows of 50 steps of <paramref name="problem"/> after <paramref name="warmSteps"/>; asserts every window took its 50 steps.</summary>
    public static long WarmStepBytes(IStepperFactory method, string problem = "rober", int warmSteps = 20, double rtol = 1e-10)
    {
        var (t1, y0, _) = StiffProblems.Problem(problem);
        var f = new FuncDynamics<double>(y0.Length, StiffProblems.Rhs[problem]);
        var stepper = Ode.Steps(f, y0, 0, t1, new SolveOptions { Stepper = method, RelativeTolerance = rtol, AbsoluteTolerance = 1e-4 * rtol, MaxSteps = 200_000 });
        for (int i = 0; i < warmSteps; i++) Assert.That(stepper.MoveNext(), Is.True);
        int moved = 0;
        long allocated = AllocationWindows.Quietest(() => { for (int i = 0; i < 50; i++) moved += stepper.MoveNext() ? 1 : 0; }, windows: 4);
        TestContext.Out.WriteLine($"{method}: {allocated} bytes over 50 steps at t = {stepper.Time:G4}");
        Assert.That(moved, Is.EqualTo(200), "every measured window took its 50 steps");
        return allocated;
    }

    /// <summary>dL/dy0 and dL/dθ of L = Σ y(t)² over t = 0, 0.3, 1 for a mild 2-D linear model, by <paramref name="sensitivity"/>.</summary>
    public static (double[] GradY0, double[] GradTheta) MildLinearGradients(SolveOptions options, ISensitivity sensitivity)
    {
        var f = new ReversibleLinearDynamics([-3, 1, 0, -1], [1, 0.5]);
        var tape = new Tape<double>();
        var x = tape.Variable([1.0, 2.0], new Shape(1, 2));
        var solve = OdeLayer.Solve(tape, f, x, SaveAt.Times(0, 0.3, 1), options, sensitivity);
        tape.Backward(Ops.Sum(Ops.Square(solve.States)));
        return (x.Gradient.ToArray(), f.Parameters.Gradients.ToArray());
    }
}
