using System.Numerics;
using NeuralOde.Core;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Solvers;

/// <summary>
/// With the torchdiffeq-compatible preset, the peer fixtures' fixed-work forward solves take the peer's number of
/// function evaluations (torchdiffeq 0.2.5 dopri5: 2 for the initial step, 6 per attempted step).
/// </summary>
public class PeerNfeTests
{
    private static long ExpectedNfe(PeerFixture fixture, string mode) => fixture.Expected(mode).GetProperty("nfe_f").GetInt64();

    private static (long Nfe, OdeSolution<T> Solution) SpiralSolve<T>(PeerFixture w1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var f = new SpiralDynamics<T>(w1, batch: 20);
        double[] times = [.. w1.Array<double>("batch_t")];
        var sol = Ode.Solve<T>(f, w1.Array<T>("batch_y0"), SaveAt.Times(times), SolveOptions.Torchdiffeq(1e-7, 1e-9));
        return (sol.Stats.FunctionEvaluations, sol);
    }

    [Test]
    public void W1Spiral_Float64_TakesThePeersEvaluations()
    {
        var w1 = PeerFixture.Load("w1");
        var (nfe, sol) = SpiralSolve<double>(w1);
        Assert.That(nfe, Is.EqualTo(ExpectedNfe(w1, "backprop_float64")));
        // Same steps and the same quartic interpolant: the whole predicted trajectory agrees with the peer's to round-off.
        double[] expected = [.. w1.Expected("backprop_float64").GetProperty("pred_y").GetProperty("data").EnumerateArray().Select(x => x.GetDouble())];
        Assert.That(sol.Values.Length, Is.EqualTo(expected.Length));
        double worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(sol.Values[i] - expected[i]));
        TestContext.Out.WriteLine($"W1 float64: max |pred − peer| = {worst:E2}");
        Assert.That(worst, Is.LessThan(1e-12));
    }

    [Test]
    public void W1Spiral_Float32_TakesThePeersEvaluations()
    {
        var w1 = PeerFixture.Load("w1");
        var (nfe, sol) = SpiralSolve<float>(w1);
        TestContext.Out.WriteLine($"W1 float32: NFE {nfe}, peer {ExpectedNfe(w1, "backprop")}");
        Assert.That(nfe, Is.EqualTo(ExpectedNfe(w1, "backprop")));
        double[] expected = [.. w1.Expected("backprop").GetProperty("pred_y").GetProperty("data").EnumerateArray().Select(x => x.GetDouble())];
        double worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(sol.Values[i] - expected[i]));
        TestContext.Out.WriteLine($"W1 float32: max |pred − peer| = {worst:E2}");
        Assert.That(worst, Is.LessThan(1e-5));
    }

    [Test]
    public void W2ExactTraceCnf_TakesThePeersEvaluations()
    {
        var w2 = PeerFixture.Load("w2");
        const int batch = 512;
        var f = new CnfDynamics<float>(w2, batch, noise: null);
        var y0 = new float[3 * batch];
        w2.Array<float>("x_batch").CopyTo(y0, 0);
        var options = SolveOptions.Torchdiffeq(1e-5, 1e-5, new StateBlock("z", 0, 2 * batch), new StateBlock("logp", 2 * batch, batch));
        var sol = Ode.Solve<float>(f, y0, SaveAt.End(10, 0), options);
        TestContext.Out.WriteLine($"W2: NFE {sol.Stats.FunctionEvaluations}, peer {ExpectedNfe(w2, "backprop")}");
        Assert.That(sol.Stats.FunctionEvaluations, Is.EqualTo(ExpectedNfe(w2, "backprop")));
        float[] logp = [.. w2.Expected("backprop").GetProperty("logp_final").GetProperty("data").EnumerateArray().Select(x => (float)x.GetDouble())];
        for (int i = 0; i < batch; i += 37) Assert.That(sol.States[0][2 * batch + i], Is.EqualTo(logp[i]).Within(1e-3 * (1 + Math.Abs(logp[i]))));
    }

    [Test]
    public void W3HutchinsonCnf_TakesThePeersEvaluations()
    {
        var w3 = PeerFixture.Load("w3");
        const int batch = 512;
        var f = new CnfDynamics<float>(w3, batch, noise: w3.Array<float>("e_rademacher"));
        var y0 = new float[3 * batch];
        w3.Array<float>("x_batch").CopyTo(y0, 0);
        var options = SolveOptions.Torchdiffeq(1e-5, 1e-5, new StateBlock("z", 0, 2 * batch), new StateBlock("delta", 2 * batch, batch));
        var sol = Ode.Solve<float>(f, y0, SaveAt.End(0, 0.5), options);
        TestContext.Out.WriteLine($"W3: NFE {sol.Stats.FunctionEvaluations}, peer {ExpectedNfe(w3, "backprop")}");
        Assert.That(sol.Stats.FunctionEvaluations, Is.EqualTo(ExpectedNfe(w3, "backprop")));
        float[] z = [.. w3.Expected("backprop").GetProperty("z_final").GetProperty("data").EnumerateArray().Select(x => (float)x.GetDouble())];
        for (int i = 0; i < 2 * batch; i += 41) Assert.That(sol.States[0][i], Is.EqualTo(z[i]).Within(1e-4 * (1 + Math.Abs(z[i]))));
    }
}
