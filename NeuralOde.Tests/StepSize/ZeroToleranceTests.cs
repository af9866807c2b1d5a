using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Data;
using NeuralOde.Core.Flows;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.StepSize;

/// <summary>atol = 0 is legal: a component whose error scale is 0 is defined, and a step size is never NaN.</summary>
public class ZeroToleranceTests
{
    [Test]
    public void ErrorNorm_ComponentWithZeroScale_CountsZeroIfExact_InfiniteOtherwise()
    {
        double[] y = [0.0, 2.0];
        double[] exact = [0.0, 1e-6];
        double[] inexact = [1e-12, 1e-6];
        foreach (var norm in new[] { ErrorNorm.Rms, ErrorNorm.Max, ErrorNorm.BlockRms(new StateBlock("a", 0, 1), new StateBlock("b", 1, 1)) })
        {
            double ok = norm.Compute<double>(exact, y, y, [0.0], [1e-3]);
            double expected = norm.Kind == ErrorNormKind.Rms ? 5e-4 / Math.Sqrt(2) : 5e-4;   // 1e-6 / (1e-3 · 2) for the second
            Assert.That(ok, Is.EqualTo(expected).Within(1e-15), $"{norm.Kind}: the exact zero-scale component adds 0");
            Assert.That(double.IsNaN(ok), Is.False);
            Assert.That(norm.Compute<double>(inexact, y, y, [0.0], [1e-3]), Is.EqualTo(double.PositiveInfinity), $"{norm.Kind}: an error on a zero-scale component rejects");
        }
    }

    [Test]
    public void Solve_AtolZero_WithAZeroComponent_ReachesTheEndAccurately()
    {
        // y0 = [0, 1]: the first component's scale is 0 at t = 0 (the diffrax/scipy quotient is 0/0 = NaN there).
        var f = new FuncDynamics<double>(2, (t, y, d) => { d[0] = Math.Cos(t); d[1] = -y[1]; });
        var options = new SolveOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 0 };
        var solution = Ode.Solve(f, [0.0, 1.0], SaveAt.Times(0.0, 1.0), options);
        Assert.That(solution.States[^1][0], Is.EqualTo(Math.Sin(1.0)).Within(1e-6));
        Assert.That(solution.States[^1][1], Is.EqualTo(Math.Exp(-1.0)).Within(1e-6));
        Assert.That(double.IsFinite(solution.Stats.InitialStepSize) && solution.Stats.InitialStepSize > 0);
        Assert.That(solution.Stats.AcceptedSteps, Is.LessThan(1000));
    }

    [Test]
    public void Solve_TolerancesTooSmallForTheState_FailsAtOnceWithANonFiniteStepSize()
    {
        // Both scaled norms of the initial-step probe overflow (1 / 2e-300 squared), so the estimate is ∞/∞.
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -y[0]);
        var options = new SolveOptions { RelativeTolerance = 1e-300, AbsoluteTolerance = 1e-300 };
        var e = Assert.Throws<OdeSolverException>(() => Ode.Solve(f, [1.0], SaveAt.Times(0.0, 1.0), options));
        Assert.That(e!.Reason, Is.EqualTo(SolveFailure.NonFiniteStepSize));
        Assert.That(e.StepCount, Is.EqualTo(0), "no step is attempted with a NaN step size");
        Assert.That(e.Time, Is.EqualTo(0.0));
        Assert.That(e.Message, Does.Contain("no step was taken").And.Contain("raise rtol or atol"));
    }

    [Test]
    public void Solve_RtolBelowRoundingWithAtolZero_IsRefusedNamingBoth()
    {
        var f = new FuncDynamics<double>(2, (t, y, d) => { d[0] = 1; d[1] = -y[1]; });
        var options = new SolveOptions { RelativeTolerance = 1e-300, AbsoluteTolerance = 0 };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Ode.Solve(f, [0.0, 1.0], SaveAt.Times(0.0, 1.0), options));
        Assert.That(e!.ParamName, Is.EqualTo("options"));
        Assert.That(e.Message, Does.Contain("rtol").And.Contain("1E-300").And.Contain("atol").And.Contain("rounding"));
        Assert.That(e.Message, Does.Not.Contain("NaN"));
    }

    [Test]
    public void Cnf_LogProb_TorchdiffeqWithAtolZero_AgreesWithATightSolve()
    {
        // Δ log p starts at 0, so its scale is 0 at t = 0 with atol = 0.
        var net = Mlp.Create<double>(2, [16, 16], 2, Activation.Tanh, TimeInput.ConcatSquash, seed: 5);
        var field = new MlpVelocityField<double>(net);
        double[] x = Toy2D.Sample<double>(Toy2DSet.Pinwheel, 20, seed: 1);
        var zeroAtol = new Cnf<double>(field, new CnfOptions { Solver = SolveOptions.Torchdiffeq(1e-5, 0) });
        var tight = new Cnf<double>(field, new CnfOptions { Solver = SolveOptions.Torchdiffeq(1e-10, 1e-10) });
        double[] logp = zeroAtol.LogProb(x);
        double[] reference = tight.LogProb(x);
        for (int i = 0; i < x.Length / 2; i++) Assert.That(logp[i], Is.EqualTo(reference[i]).Within(1e-4), $"point {i}");
    }
}
