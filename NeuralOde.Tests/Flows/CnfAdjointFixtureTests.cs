using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Flows;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Flows;

/// <summary>
/// The peer's fixed-work adjoint runs through the public Cnf API with the torchdiffeq-compatible adjoint, and the
/// adjoint's CNF gradient against Backprop's (within the solver tolerance).
/// </summary>
public class CnfAdjointFixtureTests
{
    [Test]
    public void W3_Hutchinson_Adjoint_MatchesThePeersLossGradientsAndNfe()
    {
        var w3 = PeerFixture.Load("w3");
        var expected = w3.Expected("adjoint");
        var field = CnfPeer.Network(w3);
        var cnf = new Cnf<float>(field, new CnfOptions { EndTime = 0.5, TrainingDivergence = new HutchinsonDivergence(ProbeNoise.Rademacher) });
        var tape = new Tape<float>();
        var pass = cnf.Forward(tape, w3.Array<float>("x_batch"), w3.Array<float>("e_rademacher"), new Adjoint { TorchdiffeqCompatible = true });
        field.Parameters.ZeroGradients();
        tape.Backward(pass.NegativeLogLikelihood);
        // The backward solve's second step lands on t = 0 or falls just short of it, a coin flip of float rounding: its
        // first step's error ratio (~1.6e-5, rounding noise) sets the next proposal, 0.4431 with TensorPrimitives' tanh
        // and 0.4482 with TanhSingle, against 0.4455 remaining. Falling short costs a third step (NFE-B 20, the peer's);
        // landing, NFE-B 14. Either way every gradient is checked element-wise against the peer's.
        CnfPeerFixtureTests.Check("W3 adjoint", pass, field, expected, otherBackwardEvaluations: 14);
    }

    [Test]
    public void W2_ExactTrace_Adjoint_MatchesThePeersLossAndGradients()
    {
        var w2 = PeerFixture.Load("w2");
        var expected = w2.Expected("adjoint");
        var field = CnfPeer.Network(w2);
        var cnf = new Cnf<float>(field, new CnfOptions { StartTime = 10, EndTime = 0, Base = BaseDistribution.IsotropicGaussian(2, 0.1) });
        var tape = new Tape<float>();
        var pass = cnf.Forward(tape, w2.Array<float>("x_batch"), noiseSeed: 0, new Adjoint { TorchdiffeqCompatible = true }, Divergence.Exact);
        field.Parameters.ZeroGradients();
        tape.Backward(pass.NegativeLogLikelihood);
        // The forward lands on NFE 50 or 56 (see CnfPeerFixtureTests); compare element-wise only on the peer's sequence.
        if (pass.ForwardEvaluations == expected.GetProperty("nfe_f").GetInt64()) CnfPeerFixtureTests.Check("W2 adjoint", pass, field, expected);
        else CnfPeerFixtureTests.CheckLossAndNorm("W2 adjoint", pass, field, expected);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Adjoint_AgreesWithBackprop_WithinTolerance(bool hutchinson)
    {
        var set = new ParameterSet<double>();
        var random = new Random(21);
        IVelocityField<double>[] blocks =
        [
            new MlpVelocityField<double>(new Mlp<double>(set, 2, [12, 12], 2, Activation.Tanh, TimeInput.ConcatSquash, random, "blocks.0")),
            new MlpVelocityField<double>(new Mlp<double>(set, 2, [12, 12], 2, Activation.Tanh, TimeInput.ConcatSquash, random, "blocks.1")),
        ];
        var cnf = new Cnf<double>(blocks, new CnfOptions
        {
            Regularization = new CnfRegularization(0.1, 0.05),
            TrainingDivergence = hutchinson ? new HutchinsonDivergence(ProbeNoise.Rademacher) : Divergence.Exact,
            Solver = SolveOptions.Torchdiffeq(1e-9, 1e-9),
        });
        double[] x = Core.Data.Toy2D.Sample<double>(Core.Data.Toy2DSet.Moons, 6, seed: 2);

        double[] Gradient(ISensitivity sensitivity)
        {
            var tape = new Tape<double>();
            cnf.Parameters.ZeroGradients();
            var pass = cnf.Forward(tape, x, noiseSeed: 9, sensitivity);
            tape.Backward(pass.Loss);
            return cnf.Parameters.Gradients.ToArray();
        }

        double[] backprop = Gradient(new Backprop());
        double[] adjoint = Gradient(new Adjoint { RelativeTolerance = 1e-9, AbsoluteTolerance = 1e-9 });
        double scale = backprop.Max(Math.Abs);
        for (int i = 0; i < backprop.Length; i++) Assert.That(adjoint[i], Is.EqualTo(backprop[i]).Within(1e-5 * scale), $"θ[{i}]");
    }
}
