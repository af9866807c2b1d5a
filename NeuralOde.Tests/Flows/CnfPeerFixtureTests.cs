using NeuralOde.AutoDiff;
using NeuralOde.Core;
using NeuralOde.Core.Flows;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Flows;

/// <summary>
/// The peer's fixed-work runs (torchdiffeq 0.2.5) through the public Cnf API with backprop through the solver:
/// loss, per-parameter gradients and NFE equal the fixtures' <c>expected.backprop</c> entries.
/// </summary>
public class CnfPeerFixtureTests
{
    [Test]
    public void W2_ExactTrace_CirclesFrom10To0_MatchesThePeersLossGradientsAndNfe()
    {
        var w2 = PeerFixture.Load("w2");
        var expected = w2.Expected("backprop");
        var field = CnfPeer.Network(w2);
        var cnf = new Cnf<float>(field, new CnfOptions { StartTime = 10, EndTime = 0, Base = BaseDistribution.IsotropicGaussian(2, 0.1) });
        var tape = new Tape<float>();
        var pass = cnf.Forward(tape, w2.Array<float>("x_batch"), noiseSeed: 0, new Backprop(), Divergence.Exact);
        field.Parameters.ZeroGradients();
        tape.Backward(pass.NegativeLogLikelihood);
        // The peer itself took NFE 56 with OpenBLAS and 50 with the reference BLAS on this batch (same torch, same
        // weights): one borderline rejection flips on float rounding. The tape's forward-mode trace lands on 50 (the
        // plain-loop dynamics of PeerNfeTests on 56). Per peer-workloads.md, element-wise gradients are compared only
        // when NFE matches; otherwise loss and grad_norm at 1e-4 relative, and the gradient difference is reported.
        long nfe = pass.ForwardEvaluations;
        Assert.That(nfe, Is.EqualTo(56).Or.EqualTo(50), "NFE-F is one of the peer's two observed values");
        if (nfe == expected.GetProperty("nfe_f").GetInt64()) Check("W2", pass, field, expected);
        else CheckLossAndNorm("W2", pass, field, expected);
    }

    internal static void CheckLossAndNorm(string name, CnfPass<float> pass, MlpVelocityField<float> field, System.Text.Json.JsonElement expected)
    {
        double loss = pass.NegativeLogLikelihood.Value[0];
        double expectedLoss = expected.GetProperty("loss").GetDouble();
        double worst = CnfPeer.WorstGradientRatio(field.Parameters, expected, out double gradNorm);
        double expectedNorm = expected.GetProperty("grad_norm").GetDouble();
        TestContext.Out.WriteLine($"{name}: NFE-F {pass.ForwardEvaluations} ≠ peer {expected.GetProperty("nfe_f").GetInt64()} (a different step sequence): loss {loss:F6} (peer {expectedLoss:F6}, rel {Math.Abs(loss / expectedLoss - 1):E1}), |g| {gradNorm:F4} (peer {expectedNorm:F4}, rel {Math.Abs(gradNorm / expectedNorm - 1):E1}); element-wise gradient ratio {worst:F2} (reported, not asserted)");
        Assert.That(loss, Is.EqualTo(expectedLoss).Within(1e-4 * Math.Abs(expectedLoss)), "loss");
        Assert.That(gradNorm, Is.EqualTo(expectedNorm).Within(1e-4 * expectedNorm), "grad_norm");
    }

    [Test]
    public void W3_Hutchinson_EightGaussiansFrom0To05_MatchesThePeersBackpropLossGradientsAndNfe()
    {
        var w3 = PeerFixture.Load("w3");
        var expected = w3.Expected("backprop");
        var field = CnfPeer.Network(w3);
        var cnf = new Cnf<float>(field, new CnfOptions { EndTime = 0.5, TrainingDivergence = new HutchinsonDivergence(ProbeNoise.Rademacher) });
        var tape = new Tape<float>();
        var pass = cnf.Forward(tape, w3.Array<float>("x_batch"), w3.Array<float>("e_rademacher"), new Backprop());
        field.Parameters.ZeroGradients();
        tape.Backward(pass.NegativeLogLikelihood);
        Check("W3", pass, field, expected);
    }

    internal static void Check(string name, CnfPass<float> pass, MlpVelocityField<float> field, System.Text.Json.JsonElement expected, long? otherBackwardEvaluations = null)
    {
        double loss = pass.NegativeLogLikelihood.Value[0];
        double expectedLoss = expected.GetProperty("loss").GetDouble();
        long nfeF = expected.GetProperty("nfe_f").GetInt64(), nfeB = expected.GetProperty("nfe_b").GetInt64();
        double worst = CnfPeer.WorstGradientRatio(field.Parameters, expected, out double gradNorm);
        double expectedNorm = expected.GetProperty("grad_norm").GetDouble();
        TestContext.Out.WriteLine($"{name}: loss {loss:F6} (peer {expectedLoss:F6}), NFE-F {pass.ForwardEvaluations} (peer {nfeF}), NFE-B {pass.BackwardEvaluations} (peer {nfeB}), |g| {gradNorm:F4} (peer {expectedNorm:F4}), worst gradient ratio {worst:F3}");
        Assert.That(pass.ForwardEvaluations, Is.EqualTo(nfeF), "NFE-F");
        if (otherBackwardEvaluations is long other) Assert.That(pass.BackwardEvaluations, Is.EqualTo(nfeB).Or.EqualTo(other), "NFE-B: the peer's, or the other side of a knife edge");
        else Assert.That(pass.BackwardEvaluations, Is.EqualTo(nfeB), "NFE-B");
        Assert.That(loss, Is.EqualTo(expectedLoss).Within(1e-4 * Math.Abs(expectedLoss)), "loss");
        Assert.That(gradNorm, Is.EqualTo(expectedNorm).Within(1e-4 * expectedNorm), "grad_norm");
        Assert.That(worst, Is.LessThanOrEqualTo(1.0), "per-parameter gradients: |g − g_ref| ≤ 1e-4·|g_ref| + 1e-5·max|g_ref|");
    }
}
