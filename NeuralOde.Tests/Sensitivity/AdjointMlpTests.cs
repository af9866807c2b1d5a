using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>
/// A random small neural ODE (2 → 16 → 2, tanh, t concatenated; a batch of 3) with a trajectory loss over several
/// observation times: the adjoint gradient converges to finite differences as the tolerance tightens, and the
/// seminorm saves backward evaluations without changing the gradient beyond the tolerance.
/// </summary>
public class AdjointMlpTests
{
    private const int Seed = 3, Batch = 3;
    private static readonly double[] Times = [0.0, 0.25, 0.6, 1.0];

    private static MlpDynamics<double> Dynamics() =>
        new(Mlp.Create<double>(2, [16], 2, Activation.Tanh, TimeInput.Concat, Seed), Batch);

    private static double[] InitialState => GradientCheck.Random(2 * Batch, seed: 21);

    /// <summary>The loss is Σ_k w_k·y(t_k) over every saved time (t0 included), so its cotangent is w.</summary>
    private static double[] Weights => GradientCheck.Random(Times.Length * 2 * Batch, seed: 22);

    private static AdjointRun<double> Run(Adjoint adjoint, double rtol) =>
        AdjointRun<double>.Run(adjoint, Dynamics(), InitialState, SaveAt.Times(Times),
            new SolveOptions { RelativeTolerance = rtol, AbsoluteTolerance = rtol * 1e-2 }, output => Weights);

    [Test]
    public void MlpTrajectoryLoss_AdjointConvergesToFiniteDifferencesAsTheToleranceTightens()
    {
        var f = Dynamics();
        double[] theta = f.Parameters.Values.ToArray();
        double[] w = Weights, y0 = InitialState;
        int[] probed = [.. Enumerable.Range(0, theta.Length).Where(i => i % 7 == 0)];
        double[] numeric = new double[probed.Length];
        const double h = 1e-5;
        for (int k = 0; k < probed.Length; k++)
        {
            int i = probed[k];
            f.Parameters.Values[i] = theta[i] + h;
            double plus = FineLoss(f, y0, w);
            f.Parameters.Values[i] = theta[i] - h;
            double minus = FineLoss(f, y0, w);
            f.Parameters.Values[i] = theta[i];
            numeric[k] = (plus - minus) / (2 * h);
        }
        double scale = numeric.Max(Math.Abs);

        var errors = new List<double>();
        foreach (double rtol in new[] { 1e-4, 1e-7, 1e-10 })
        {
            var run = Run(new Adjoint(), rtol);
            double worst = probed.Select((i, k) => Math.Abs(run.GradTheta[i] - numeric[k])).Max() / scale;
            TestContext.Out.WriteLine($"rtol {rtol:G1}: worst |g − g_fd| / max|g_fd| = {worst:G3}, NFE-B {run.Backward.FunctionEvaluations}");
            errors.Add(worst);
        }
        Assert.That(errors[^1], Is.LessThan(1e-6));
        Assert.That(errors[^1], Is.LessThan(errors[0]));
    }

    [Test]
    public void Seminorm_TakesFewerBackwardEvaluations_WithTheSameGradientWithinTolerance()
    {
        // One long interval, so step-size control rather than the initial-step probe decides the count.
        const int batch = 8;
        var options = new SolveOptions { RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-9 };
        double[] y0 = GradientCheck.Random(2 * batch, seed: 23, lo: -2, hi: 2);
        AdjointRun<double> Solve(bool seminorm) => AdjointRun<double>.Run(new Adjoint { Seminorm = seminorm },
            new MlpDynamics<double>(Mlp.Create<double>(2, [16, 16], 2, Activation.Tanh, TimeInput.Concat, Seed), batch),
            y0, SaveAt.End(0, 6), options, output => [.. output]);
        var full = Solve(false);
        var semi = Solve(true);
        TestContext.Out.WriteLine($"NFE-B full norm {full.Backward.FunctionEvaluations}, seminorm {semi.Backward.FunctionEvaluations} (NFE-F {full.Forward.FunctionEvaluations})");
        Assert.That(semi.Backward.FunctionEvaluations, Is.LessThan(full.Backward.FunctionEvaluations));
        double scale = full.GradTheta.Max(Math.Abs);
        for (int i = 0; i < full.GradTheta.Length; i++)
            Assert.That(semi.GradTheta[i], Is.EqualTo(full.GradTheta[i]).Within(1e-4 * scale), $"dL/dθ[{i}]");
        for (int i = 0; i < full.GradY0.Length; i++)
            Assert.That(semi.GradY0[i], Is.EqualTo(full.GradY0[i]).Within(1e-4 * full.GradY0.Max(Math.Abs)), $"dL/dy0[{i}]");
    }

    [Test]
    public void Seminorm_TorchdiffeqCompatible_TakesNoMoreBackwardEvaluationsOnW1()
    {
        var w1 = PeerFixture.Load("w1");
        var f = SpiralNetwork<double>.FromFixture(w1, 20);
        long Nfe(bool seminorm) => AdjointRun<double>.Run(new Adjoint { TorchdiffeqCompatible = true, Seminorm = seminorm }, f, w1.Array<double>("batch_y0"),
            SaveAt.Times(w1.Array<double>("batch_t")), SolveOptions.Torchdiffeq(1e-7, 1e-9), pred => [.. pred.Select(x => 1.0 / pred.Length)]).Backward.FunctionEvaluations;
        long full = Nfe(false), semi = Nfe(true);
        TestContext.Out.WriteLine($"W1 float64 NFE-B: full {full}, seminorm {semi}");
        Assert.That(semi, Is.LessThanOrEqualTo(full));
    }

    /// <summary>Σ_k w_k·y(t_k) by classic RK4 with a fixed step of 1/1000 (outputs interpolated inside steps).</summary>
    private static double FineLoss(IDynamics<double> f, double[] y0, double[] w)
    {
        var sol = Ode.Solve<double>(f, y0, SaveAt.Times(Times), new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(1.0 / 1000), StepToTimes = Times[1..^1] });
        double loss = 0;
        ReadOnlySpan<double> values = sol.Values;
        for (int i = 0; i < values.Length; i++) loss += w[i] * values[i];
        return loss;
    }
}
