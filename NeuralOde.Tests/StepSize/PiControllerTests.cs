using NeuralOde.Core;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.StepSize;

/// <summary>The controller's formula, its bounds, the landing times and the error norms.</summary>
public class PiControllerTests
{
    [Test]
    public void Factor_ShrinksOnLargeErrorAndRespectsBounds()
    {
        var pi = new PiController();
        Assert.Multiple(() =>
        {
            Assert.That(pi.Factor(2.0, 1, 5, accepted: false), Is.EqualTo(0.9 * Math.Pow(2.0, -0.2)).Within(1e-15));
            Assert.That(pi.Factor(1e6, 1, 5, accepted: false), Is.EqualTo(0.2));
            Assert.That(pi.Factor(1e-12, 1, 5, accepted: true), Is.EqualTo(10));
            Assert.That(pi.Factor(0, 1, 5, accepted: true), Is.EqualTo(10));
            Assert.That(pi.Factor(double.PositiveInfinity, 1, 5, accepted: false), Is.EqualTo(0.2));
        });
    }

    [Test]
    public void Factor_UsesTheProportionalTermWithThePreviousRatio()
    {
        var pi = new PiController { PCoeff = 0.3, ICoeff = 0.4 };
        double expected = 0.9 * Math.Pow(0.5, -(0.7) / 5) * Math.Pow(0.8, 0.3 / 5);
        Assert.That(pi.Factor(0.5, 0.8, 5, accepted: true), Is.EqualTo(expected).Within(1e-15));
    }

    [Test]
    public void TorchdiffeqPreset_NeverShrinksAfterAnAcceptedStep()
    {
        var pi = PiController.Torchdiffeq;
        Assert.That(pi.Factor(0.999, 1, 5, accepted: true), Is.EqualTo(1.0));
        Assert.That(pi.Factor(1.5, 1, 5, accepted: false), Is.EqualTo(0.9 * Math.Pow(1.5, -0.2)).Within(1e-15));
    }

    [Test]
    public void DtMax_CapsEveryStep()
    {
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -y[0]);
        var sol = Ode.Solve(f, [1.0], SaveAt.End(0, 5), new SolveOptions { StepSize = new PiController { DtMax = 0.1 }, RecordSteps = true });
        Assert.That(sol.Steps!.Max(s => Math.Abs(s.StepSize)), Is.LessThanOrEqualTo(0.1 + 1e-12));
        Assert.That(sol.Stats.AcceptedSteps, Is.GreaterThanOrEqualTo(50));
    }

    [Test]
    public void Stats_CountEveryEvaluation()
    {
        var f = new FuncDynamics<double>(2, (t, y, d) => { d[0] = y[1]; d[1] = -y[0]; });
        var sol = Ode.Solve(f, [1.0, 0.0], SaveAt.Times(0, 1, 2, 3), new SolveOptions { RelativeTolerance = 1e-8 });
        SolveStats s = sol.Stats;
        Assert.That(s.FunctionEvaluations, Is.EqualTo(f.Calls));
        // Dormand–Prince is FSAL: f(t0), the probe, then 6 per attempted step.
        Assert.That(s.FunctionEvaluations, Is.EqualTo(2 + 6 * (s.AcceptedSteps + s.RejectedSteps)));
        Assert.That(s.LastStepSize, Is.Positive);
    }

    [Test]
    public void FixedStep_CostsStagesPerStepWithoutFsal()
    {
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -y[0]);
        var sol = Ode.Solve(f, [1.0], SaveAt.End(0, 1), new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(0.1) });
        Assert.That(sol.Stats.AcceptedSteps, Is.EqualTo(10));
        Assert.That(sol.Stats.FunctionEvaluations, Is.EqualTo(40));
    }

    [Test]
    public void StepToTimes_AreLandedOnExactly()
    {
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = Math.Abs(t - 0.7));
        var sol = Ode.Solve(f, [0.0], SaveAt.End(0, 2), new SolveOptions { StepToTimes = [0.7], RecordSteps = true });
        Assert.That(sol.Steps!.Any(s => s.EndTime == 0.7), Is.True);
        Assert.That(sol.States[0][0], Is.EqualTo(0.7 * 0.7 / 2 + 1.3 * 1.3 / 2).Within(1e-8));
    }

    [Test]
    public void JumpTimes_AreLandedOnAndFIsReevaluatedAfterThem()
    {
        // f jumps from 1 to −2 at t = 1: y(2) = 1 − 2 = −1 exactly for any order-1+ method once the jump is a step end.
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = t < 1 ? 1 : -2);
        var sol = Ode.Solve(f, [0.0], SaveAt.End(0, 2), new SolveOptions { JumpTimes = [1.0], RecordSteps = true });
        Assert.That(sol.Steps!.Any(s => s.EndTime == 1.0), Is.True);
        Assert.That(sol.States[0][0], Is.EqualTo(-1).Within(1e-12));
        Assert.That(sol.Stats.RejectedSteps, Is.Zero);
    }

    [Test]
    public void Norms_ReduceTheScaledErrorAsDocumented()
    {
        double[] err = [1, 2, 3, 4];
        double[] y = [0, 0, 0, 0];
        double[] atol = [1];
        double[] rtol = [1];
        var blocks = new[] { new StateBlock("z", 0, 2), new StateBlock("a", 2, 2) };
        Assert.Multiple(() =>
        {
            Assert.That(ErrorNorm.Rms.Compute<double>(err, y, y, atol, rtol), Is.EqualTo(Math.Sqrt(30.0 / 4)).Within(1e-15));
            Assert.That(ErrorNorm.Max.Compute<double>(err, y, y, atol, rtol), Is.EqualTo(4));
            Assert.That(ErrorNorm.BlockRms(blocks).Compute<double>(err, y, y, atol, rtol), Is.EqualTo(Math.Sqrt(25.0 / 2)).Within(1e-15));
            Assert.That(ErrorNorm.Seminorm(blocks, "a").Compute<double>(err, y, y, atol, rtol), Is.EqualTo(Math.Sqrt(5.0 / 2)).Within(1e-15));
            Assert.That(() => ErrorNorm.Seminorm(blocks, "theta"), Throws.ArgumentException.With.Message.Contains("theta"));
        });
    }

    [Test]
    public void Seminorm_LetsAnExcludedBlockGoUncontrolled()
    {
        // Block "b" grows fast; leaving it out of the norm lets the solver take the steps block "a" alone needs.
        var f = new FuncDynamics<double>(2, (t, y, d) => { d[0] = -y[0]; d[1] = 50 * Math.Cos(50 * t); });
        var blocks = new[] { new StateBlock("a", 0, 1), new StateBlock("b", 1, 1) };
        var full = Ode.Solve(f, [1.0, 0.0], SaveAt.End(0, 2), new SolveOptions { Norm = ErrorNorm.BlockRms(blocks) });
        var semi = Ode.Solve(f, [1.0, 0.0], SaveAt.End(0, 2), new SolveOptions { Norm = ErrorNorm.Seminorm(blocks, "b") });
        Assert.That(semi.Stats.FunctionEvaluations, Is.LessThan(full.Stats.FunctionEvaluations / 2));
    }

    [Test]
    public void PerComponentTolerances_AreUsed()
    {
        var f = new FuncDynamics<double>(2, (t, y, d) => { d[0] = -y[0]; d[1] = -y[1]; });
        var loose = Ode.Solve(f, [1.0, 1.0], SaveAt.End(0, 2), new SolveOptions { RelativeTolerances = [1e-3, 1e-3], AbsoluteTolerances = [1e-6, 1e-6] });
        var tight = Ode.Solve(f, [1.0, 1.0], SaveAt.End(0, 2), new SolveOptions { RelativeTolerances = [1e-3, 1e-10], AbsoluteTolerances = [1e-6, 1e-12] });
        Assert.That(tight.Stats.FunctionEvaluations, Is.GreaterThan(2 * loose.Stats.FunctionEvaluations));
    }
}
