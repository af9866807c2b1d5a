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

    [Test]
    public void SeededProbes_AreTheDrawsOfTheSeed_AsBefore()
    {
        // The seeded overload keeps its sequence: block 0 of pass s draws HutchinsonDivergence.Draw(noise, s) (block i
        // uses s + 7919·i), so a one-block pass from a seed equals the pass given those draws explicitly, bitwise.
        var set = new ParameterSet<double>();
        var field = new MlpVelocityField<double>(new Mlp<double>(set, 2, [12, 12], 2, Activation.Tanh, TimeInput.ConcatSquash, new Random(Seed), "net"));
        var divergence = new HutchinsonDivergence(ProbeNoise.Rademacher, probes: 3);
        var cnf = new Cnf<double>(field, new CnfOptions { TrainingDivergence = divergence, Solver = SolveOptions.Torchdiffeq(1e-7, 1e-7) });
        var x = Batch();
        var probes = new double[3 * x.Length];
        HutchinsonDivergence.Draw<double>(ProbeNoise.Rademacher, 17, probes);
        var seededTape = new Tape<double>();
        var seeded = cnf.Forward(seededTape, x, noiseSeed: 17, new Checkpointed());
        var explicitTape = new Tape<double>();
        var given = cnf.Forward(explicitTape, x, probes, new Checkpointed());
        Assert.That(given.Loss.Value[0], Is.EqualTo(seeded.Loss.Value[0]));
        Assert.That(Backward(cnf, explicitTape, given), Is.EqualTo(Backward(cnf, seededTape, seeded)));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void WarmHutchinsonIteration_AllocatesNoMoreThanTheExactTraces(bool seeded)
    {
        // Fixed steps, so both estimators take the same steps and the solves allocate alike; what differs is the noise.
        const int batch = 128;
        var solver = new SolveOptions { Method = Core.Solvers.Tableaus.DormandPrince54, StepSize = new Core.StepSize.FixedStep(0.1) };
        float[] x = Core.Data.Toy2D.Sample<float>(Core.Data.Toy2DSet.EightGaussians, batch, seed: 3);
        float[] probes = new float[x.Length];
        HutchinsonDivergence.Draw<float>(ProbeNoise.Rademacher, 4, probes);

        long WarmIteration(Divergence divergence)
        {
            var field = new MlpVelocityField<float>(Mlp.Create<float>(2, [16, 16], 2, Activation.Tanh, TimeInput.ConcatSquash, seed: 0));
            var cnf = new Cnf<float>(field, new CnfOptions { TrainingDivergence = divergence, Solver = solver });
            var tape = new Tape<float>();
            var sensitivity = new Checkpointed();
            int iteration = 0;
            void Iterate()
            {
                tape.Reset();
                cnf.Parameters.ZeroGradients();
                var pass = seeded ? cnf.Forward(tape, x, noiseSeed: iteration++, sensitivity) : cnf.Forward(tape, x, probes, sensitivity);
                tape.Backward(pass.Loss);
            }
            for (int i = 0; i < 3; i++) Iterate();
            return AllocationWindows.Quietest(Iterate);
        }

        long exact = WarmIteration(Divergence.Exact);
        long hutchinson = WarmIteration(new HutchinsonDivergence(ProbeNoise.Rademacher));
        TestContext.Out.WriteLine($"a warm iteration allocates {hutchinson} bytes with Hutchinson's estimator ({(seeded ? "seeded" : "explicit probes")}), {exact} with the exact trace");
        // A probe buffer per pass would be batch·D·4 = 1 KiB here; the seeded draw's System.Random (about 300 bytes) is the only extra allowed.
        Assert.That(hutchinson, Is.LessThanOrEqualTo(exact + (seeded ? SeededRandomBytes : 0)));
    }

    /// <summary>What <c>new Random(seed)</c> allocates (the object, its seeded generator and its 56-integer state), measured at 304.</summary>
    private const long SeededRandomBytes = 320;
}
