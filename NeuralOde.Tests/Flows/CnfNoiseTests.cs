using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Flows;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Flows;

/// <summary>
/// Hutchinson noise is an input of each pass: passes recorded before either backward are each differentiated with
/// their own probes, whatever the order, and the flow's cache of dynamics stays bounded.
/// </summary>
public class CnfNoiseTests
{
    private const int Seed = 21;
    private const int FirstNoiseSeed = 1;
    private const int SecondNoiseSeed = 2;

    private static IEnumerable<TestCaseData> Strategies()
    {
        foreach (bool sameTape in new[] { true, false })
        {
            yield return new TestCaseData(new Backprop(), sameTape).SetArgDisplayNames("Backprop", sameTape ? "one tape" : "two tapes");
            yield return new TestCaseData(new Checkpointed(), sameTape).SetArgDisplayNames("Checkpointed", sameTape ? "one tape" : "two tapes");
            yield return new TestCaseData(new Adjoint { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-8 }, sameTape).SetArgDisplayNames("Adjoint", sameTape ? "one tape" : "two tapes");
        }
    }

    /// <summary>Two blocks of small ConcatSquash MLPs with both regularisers, so every part of the state depends on the probes.</summary>
    private static Cnf<double> Flow(Divergence divergence)
    {
        var set = new ParameterSet<double>();
        var random = new Random(Seed);
        IVelocityField<double>[] blocks =
        [
            new MlpVelocityField<double>(new Mlp<double>(set, 2, [12, 12], 2, Activation.Tanh, TimeInput.ConcatSquash, random, "blocks.0")),
            new MlpVelocityField<double>(new Mlp<double>(set, 2, [12, 12], 2, Activation.Tanh, TimeInput.ConcatSquash, random, "blocks.1")),
        ];
        return new Cnf<double>(blocks, new CnfOptions
        {
            Regularization = new CnfRegularization(0.1, 0.05),
            TrainingDivergence = divergence,
            Solver = SolveOptions.Torchdiffeq(1e-7, 1e-7),
        });
    }

    private static double[] Batch() => Core.Data.Toy2D.Sample<double>(Core.Data.Toy2DSet.Moons, 6, seed: 2);

    private static double[] Backward(Cnf<double> cnf, Tape<double> tape, CnfPass<double> pass)
    {
        cnf.Parameters.ZeroGradients();
        tape.Backward(pass.Loss);
        return cnf.Parameters.Gradients.ToArray();
    }

    private static double[] Alone(Cnf<double> cnf, double[] x, int noiseSeed, ISensitivity sensitivity)
    {
        var tape = new Tape<double>();
        return Backward(cnf, tape, cnf.Forward(tape, x, noiseSeed, sensitivity));
    }

    [TestCaseSource(nameof(Strategies))]
    public void TwoPassesRecordedBeforeEitherBackward_EachIsDifferentiatedWithItsOwnNoise(ISensitivity sensitivity, bool sameTape)
    {
        var cnf = Flow(new HutchinsonDivergence(ProbeNoise.Gaussian, probes: 2));
        var x = Batch();
        double[] firstAlone = Alone(cnf, x, FirstNoiseSeed, sensitivity);
        double[] secondAlone = Alone(cnf, x, SecondNoiseSeed, sensitivity);
        Assert.That(secondAlone, Is.Not.EqualTo(firstAlone), "the two seeds give different probes, so different gradients");

        var firstTape = new Tape<double>();
        var secondTape = sameTape ? firstTape : new Tape<double>();
        var first = cnf.Forward(firstTape, x, FirstNoiseSeed, sensitivity);
        var second = cnf.Forward(secondTape, x, SecondNoiseSeed, sensitivity);
        // The first pass's reverse sweep runs after the second pass was recorded: the order the old rule forbade.
        Assert.That(Backward(cnf, firstTape, first), Is.EqualTo(firstAlone), "the first pass, differentiated after the second was recorded");
        Assert.That(Backward(cnf, secondTape, second), Is.EqualTo(secondAlone), "the second pass");
    }

    [Test]
    public void MorePassesAliveThanTheCacheHolds_EachKeepsItsOwnNoise()
    {
        var cnf = Flow(new HutchinsonDivergence(ProbeNoise.Rademacher));
        var x = Batch();
        var sensitivity = new Checkpointed();
        const int passes = 3 * Cnf<double>.MaxCachedDynamics;
        var expected = new double[passes][];
        for (int i = 0; i < passes; i++) expected[i] = Alone(cnf, x, 100 + i, sensitivity);

        var tape = new Tape<double>();
        var recorded = new CnfPass<double>[passes];
        for (int i = 0; i < passes; i++) recorded[i] = cnf.Forward(tape, x, 100 + i, sensitivity);
        Assert.That(cnf.CachedDynamicsCount, Is.LessThanOrEqualTo(Cnf<double>.MaxCachedDynamics));
        for (int i = passes - 1; i >= 0; i--) Assert.That(Backward(cnf, tape, recorded[i]), Is.EqualTo(expected[i]), $"pass {i}");
    }

    [Test]
    public void ManyHutchinsonInstancesOverManyPasses_DoNotGrowTheCache()
    {
        var cnf = Flow(new HutchinsonDivergence());
        var x = Batch();
        var tape = new Tape<double>();
        var sensitivity = new Checkpointed();
        int afterFirst = 0;
        for (int i = 0; i < 50; i++)
        {
            tape.Reset();
            var pass = cnf.Forward(tape, x, noiseSeed: i, sensitivity, new HutchinsonDivergence(i % 2 == 0 ? ProbeNoise.Rademacher : ProbeNoise.Gaussian));
            tape.Backward(pass.Loss);
            if (i == 0) afterFirst = cnf.CachedDynamicsCount;
        }
        _ = cnf.LogProb(x);
        Assert.That(afterFirst, Is.EqualTo(cnf.BlockCount), "one set of dynamics per block");
        Assert.That(cnf.CachedDynamicsCount, Is.EqualTo(cnf.BlockCount + cnf.BlockCount), "plus one per block for the exact evaluation");
    }
}
