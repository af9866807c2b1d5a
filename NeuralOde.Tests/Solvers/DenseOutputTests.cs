using NeuralOde.Core;
using NeuralOde.Core.Solvers;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Solvers;

/// <summary>States served between accepted steps are about as accurate as those at step ends.</summary>
public class DenseOutputTests
{
    public static IEnumerable<ButcherTableau> AdaptiveMethods => Tableaus.All.Where(t => t.HasErrorEstimate);

    [TestCaseSource(nameof(AdaptiveMethods))]
    public void MidStepError_IsWithinASmallFactorOfStepEndError(ButcherTableau method)
    {
        const double omega = 2;
        var f = new FuncDynamics<double>(2, (t, y, d) => { d[0] = y[1]; d[1] = -omega * omega * y[0]; });
        var options = new SolveOptions { Method = method, RelativeTolerance = 1e-7, AbsoluteTolerance = 1e-9, RecordSteps = true };
        var first = Ode.Solve(f, [1.0, 0.0], SaveAt.End(0, 10), options);
        IReadOnlyList<StepRecord> steps = first.Steps!;

        // Ask for every step end and every step midpoint in one solve with the same settings (same steps).
        double[] ends = [0, .. steps.Select(s => s.EndTime)];
        double[] mids = [.. steps.Select(s => s.Time + 0.5 * (s.EndTime - s.Time))];
        double[] all = [.. ends.Concat(mids).Order()];
        var sol = Ode.Solve(f, [1.0, 0.0], SaveAt.Times(all), options);
        Assert.That(sol.Stats.AcceptedSteps, Is.EqualTo(steps.Count), "output times must not change the steps");

        double endError = 0, midError = 0;
        for (int i = 1; i < all.Length; i++)
        {
            double e = Math.Abs(sol.States[i][0] - Math.Cos(omega * all[i]));
            if (Array.BinarySearch(ends, all[i]) >= 0) endError = Math.Max(endError, e);
            else midError = Math.Max(midError, e);
        }
        TestContext.Out.WriteLine($"{method}: max error at step ends {endError:E2}, at midpoints {midError:E2}");
        // A method's own continuous extension stays within 5× the step-end error; cubic Hermite (third order) under a
        // fifth-order method's long steps within 10×.
        double factor = method.HasDenseOutput || method.Order <= 4 ? 5 : 10;
        Assert.That(midError, Is.LessThan(factor * endError + 1e-12));
    }
}

/// <summary>The whole-solve interpolant agrees with the saved states and the closed form anywhere in the solve.</summary>
public class DenseInterpolantTests
{
    public static IEnumerable<ButcherTableau> AdaptiveMethods => Tableaus.All.Where(t => t.HasErrorEstimate);

    [TestCaseSource(nameof(AdaptiveMethods))]
    public void Dense_AgreesWithSavedStatesAndTheClosedForm(ButcherTableau method)
    {
        const double omega = 2;
        var f = new FuncDynamics<double>(2, (t, y, d) => { d[0] = y[1]; d[1] = -omega * omega * y[0]; });
        double[] times = [3, 2.3, 1.7, 0.2, -1];
        double rtol = method.Order <= 2 ? 1e-7 : 1e-9;
        var sol = Ode.Solve(f, [Math.Cos(3 * omega), -omega * Math.Sin(3 * omega)], SaveAt.Times(times), new SolveOptions { Method = method, RelativeTolerance = rtol, AbsoluteTolerance = rtol * 1e-2, DenseOutput = true });
        var dense = sol.Dense!;
        Assert.That(dense.StepCount, Is.EqualTo(sol.Stats.AcceptedSteps));
        var y = new double[2];
        for (int i = 0; i < times.Length; i++)
        {
            dense.Evaluate(times[i], y);
            Assert.That(y, Is.EqualTo(sol.States[i].ToArray()).Within(1e-13), $"t = {times[i]}");
        }
        for (double t = 3; t >= -1; t -= 0.0371)
        {
            dense.Evaluate(t, y);
            Assert.That(y[0], Is.EqualTo(Math.Cos(omega * t)).Within(1e3 * rtol), $"t = {t}");
        }
        Assert.That(() => dense.Evaluate(3.5, y), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("time"));
    }
}
