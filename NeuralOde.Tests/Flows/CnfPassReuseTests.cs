using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core.Data;
using NeuralOde.Core.Flows;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Flows;

/// <summary>
/// A CNF pass object lives as long as its tape's handles: the flow reuses it once that tape is reset, so a warm training
/// iteration allocates nothing, while passes that are still valid are never shared.
/// </summary>
public class CnfPassReuseTests
{
    private const int Batch = 512;

    private static IEnumerable<TestCaseData> Iterations()
    {
        foreach (bool exact in new[] { true, false })
        {
            string trace = exact ? "exact trace" : "given Hutchinson probes";
            yield return new TestCaseData(exact, new Backprop()).SetArgDisplayNames(trace, "Backprop");
            yield return new TestCaseData(exact, new Checkpointed()).SetArgDisplayNames(trace, "Checkpointed");
            yield return new TestCaseData(exact, new Adjoint()).SetArgDisplayNames(trace, "Adjoint");
            yield return new TestCaseData(exact, new Adjoint { TorchdiffeqCompatible = true }).SetArgDisplayNames(trace, "Adjoint (torchdiffeq)");
        }
    }

    [TestCaseSource(nameof(Iterations))]
    public void WarmIteration_AllocatesNothing_OnAnyThread(bool exact, ISensitivity sensitivity)
    {
        // W2's and W3's set-up at a smaller width: forward solve, loss, backward; the batch is split by rows on 2 cores.
        var mlp = Mlp.Create<float>(2, [32, 32], 2, Activation.Tanh, TimeInput.Concat, seed: 0);
        var cnf = new Cnf<float>(new MlpVelocityField<float>(mlp), exact
            ? new CnfOptions { StartTime = 1, EndTime = 0, Base = BaseDistribution.IsotropicGaussian(2, 0.1) }
            : new CnfOptions { EndTime = 0.5, TrainingDivergence = new HutchinsonDivergence(ProbeNoise.Rademacher) });
        float[] x = Toy2D.Sample<float>(Toy2DSet.EightGaussians, Batch, seed: 3);
        float[] probes = new float[x.Length];
        HutchinsonDivergence.Draw<float>(ProbeNoise.Rademacher, 4, probes);
        var tape = new Tape<float>();
        void Iterate()
        {
            tape.Reset();
            cnf.Parameters.ZeroGradients();
            var pass = exact ? cnf.Forward(tape, x, noiseSeed: 0, sensitivity) : cnf.Forward(tape, x, probes, sensitivity);
            tape.Backward(pass.Loss);
        }
        for (int i = 0; i < 3; i++) Iterate();
        Assert.That(AllocationWindows.QuietestWithWorkers(Iterate), Is.Zero, "bytes allocated by the caller and the pool's workers");
    }

    [Test]
    public void PassesStillValid_AreDistinct_AndAResetTapesPassIsReused()
    {
        var mlp = Mlp.Create<double>(2, [8], 2, Activation.Tanh, TimeInput.Concat, seed: 1);
        var cnf = new Cnf<double>(new MlpVelocityField<double>(mlp), new CnfOptions { EndTime = 0.5 });
        double[] first = Toy2D.Sample<double>(Toy2DSet.Circles, 16, seed: 1);
        double[] second = Toy2D.Sample<double>(Toy2DSet.Moons, 16, seed: 2);
        var tape = new Tape<double>();
        var other = new Tape<double>();

        var a = cnf.Forward(tape, first, noiseSeed: 0);
        var b = cnf.Forward(tape, second, noiseSeed: 0);
        var c = cnf.Forward(other, second, noiseSeed: 0);
        Assert.That(b, Is.Not.SameAs(a), "two passes on one tape before a reset");
        Assert.That(c, Is.Not.SameAs(a).And.Not.SameAs(b), "a pass on another tape");
        double lossA = a.Loss.Value[0], lossC = c.Loss.Value[0];
        Assert.That(lossA, Is.Not.EqualTo(lossC), "the batches differ");

        tape.Reset();
        var d = cnf.Forward(tape, second, noiseSeed: 0);
        Assert.That(d, Is.SameAs(a).Or.SameAs(b), "the reset tape's passes are free again");
        Assert.That(d.Loss.Value[0], Is.EqualTo(lossC), "the reused pass holds the new pass's outputs");
        Assert.That(c.Loss.Value[0], Is.EqualTo(lossC), "the other tape's pass is untouched");
        Assert.That(d.Solves[0], Is.Not.SameAs(c.Solves[0]), "and so are its solve nodes");
        Assert.That(d.ForwardEvaluations, Is.EqualTo(c.ForwardEvaluations), "the same solve");
    }
}
