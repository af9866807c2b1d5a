using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Flows;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Flows;

/// <summary>
/// A CNF's dynamics evaluated in row blocks (each point's z row, Δ and regulariser elements gathered per block, one tape
/// per block on the worker pool) give the unsplit f and state cotangent bit for bit and the parameter gradient to
/// rounding, for the exact trace and for Hutchinson probes, with both regularisers carried.
/// </summary>
public class CnfRowSplitTests
{
    private static (T[] F, T[] GradY, T[] GradTheta) Run<T>(int parts, int batch, Divergence divergence, CnfRegularization regularization)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => ForcedRowSplit.With(parts, () =>
    {
        var field = new MlpVelocityField<T>(Mlp.Create<T>(2, [32, 32], 2, Activation.Tanh, TimeInput.Concat, seed: 4));
        int probes = divergence is HutchinsonDivergence h ? h.Probes * batch * 2 : 0;
        var noise = GradientCheck.Random(probes, 11).Select(v => v < 0 ? -T.One : T.One).ToArray();
        var f = new NeuralOde.Core.Flows.CnfDynamics<T>(field, batch, divergence, regularization, noise);
        T[] y = GradientCheck.Random(f.Dimension, 3, -2, 2).Select(T.CreateTruncating).ToArray();
        T[] cotangent = GradientCheck.Random(f.Dimension, 5).Select(T.CreateTruncating).ToArray();
        var dydt = new T[f.Dimension];
        var gradY = new T[f.Dimension];
        var gradTheta = new T[f.Parameters.Length];
        f.EvaluateAndVjp(0.4, y, cotangent, dydt, gradY, gradTheta);
        var evaluated = new T[f.Dimension];
        f.Evaluate(0.4, y, evaluated);
        Assert.That(evaluated, Is.EqualTo(dydt), "Evaluate and EvaluateAndVjp give the same f");
        // A second call reuses the blocks' buffers and tapes: the same bits again.
        var again = new T[f.Dimension];
        f.Evaluate(0.4, y, again);
        Assert.That(again, Is.EqualTo(dydt), "a repeated evaluation");
        return (dydt, gradY, gradTheta);
    });

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (int parts in new[] { 2, 3 })
        {
            foreach (int batch in new[] { 96, 70 })
            {
                yield return new TestCaseData(parts, batch, false).SetArgDisplayNames($"{parts} blocks", $"B = {batch}", "exact trace");
                yield return new TestCaseData(parts, batch, true).SetArgDisplayNames($"{parts} blocks", $"B = {batch}", "2 Hutchinson probes");
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void SplitCnfDynamics_GiveTheUnsplitValuesAndStateCotangentsBitwise(int parts, int batch, bool hutchinson)
    {
        Divergence divergence = hutchinson ? new HutchinsonDivergence(ProbeNoise.Rademacher, probes: 2) : Divergence.Exact;
        var regularization = new CnfRegularization(0.1, 0.05);
        foreach (var type in new[] { typeof(float), typeof(double) })
        {
            if (type == typeof(float))
            {
                var whole = Run<float>(1, batch, divergence, regularization);
                var split = Run<float>(parts, batch, divergence, regularization);
                Compare(whole.F, split.F, whole.GradY, split.GradY, whole.GradTheta, split.GradTheta, 1e-5);
            }
            else
            {
                var whole = Run<double>(1, batch, divergence, regularization);
                var split = Run<double>(parts, batch, divergence, regularization);
                Compare(whole.F, split.F, whole.GradY, split.GradY, whole.GradTheta, split.GradTheta, 1e-12);
            }
        }
    }

    private static void Compare<T>(T[] f, T[] splitF, T[] gradY, T[] splitGradY, T[] gradTheta, T[] splitGradTheta, double relative)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Assert.That(splitF, Is.EqualTo(f), "f, every row bitwise");
        Assert.That(splitGradY, Is.EqualTo(gradY), "∂f/∂yᵀ·v, every row bitwise");
        double scale = gradTheta.Max(g => Math.Abs(double.CreateTruncating(g)));
        Assert.That(scale, Is.GreaterThan(0));
        for (int i = 0; i < gradTheta.Length; i++)
            Assert.That(double.CreateTruncating(splitGradTheta[i]), Is.EqualTo(double.CreateTruncating(gradTheta[i])).Within(relative * scale), $"θ[{i}]: the blocks' partial sums, to rounding");
    }

    private static IEnumerable<TestCaseData> RecordingCases()
    {
        foreach (var name in new[] { "backprop", "checkpointed", "checkpointed-budget" })
        {
            yield return new TestCaseData(name, false).SetArgDisplayNames(name, "exact trace");
            yield return new TestCaseData(name, true).SetArgDisplayNames(name, "Hutchinson");
        }
    }

    [TestCaseSource(nameof(RecordingCases))]
    public void SplitRecording_GivesTheUnsplitLossBitwise_AndItsGradients(string strategy, bool hutchinson)
    {
        const int batch = 96;
        (float Loss, long Nfe, float[] Gradient) Pass(int parts) => ForcedRowSplit.With(parts, () =>
        {
            var field = new MlpVelocityField<float>(Mlp.Create<float>(2, [32, 32], 2, Activation.Tanh, TimeInput.Concat, seed: 8));
            var cnf = new Cnf<float>(field, new CnfOptions
            {
                EndTime = 0.5,
                Regularization = new CnfRegularization(0.05, 0.02),
                TrainingDivergence = hutchinson ? new HutchinsonDivergence(ProbeNoise.Rademacher) : Divergence.Exact,
            });
            float[] x = NeuralOde.Core.Data.Toy2D.Sample<float>(NeuralOde.Core.Data.Toy2DSet.Moons, batch, seed: 3);
            ISensitivity sensitivity = strategy switch
            {
                "backprop" => new Backprop(),
                "checkpointed" => new Checkpointed(),
                _ => new Checkpointed { Budget = 3 },
            };
            var tape = new Tape<float>();
            cnf.Parameters.ZeroGradients();
            var pass = cnf.Forward(tape, x, noiseSeed: 5, sensitivity);
            tape.Backward(pass.Loss);
            return (pass.Loss.Value[0], pass.ForwardEvaluations, cnf.Parameters.Gradients.ToArray());
        });
        var whole = Pass(1);
        var split = Pass(2);
        Assert.That(split.Nfe, Is.EqualTo(whole.Nfe), "the same steps");
        Assert.That(split.Loss, Is.EqualTo(whole.Loss), "the forward solve is bitwise the unsplit one");
        float scale = whole.Gradient.Max(Math.Abs);
        Assert.That(scale, Is.GreaterThan(0f));
        for (int i = 0; i < whole.Gradient.Length; i++)
            Assert.That(split.Gradient[i], Is.EqualTo(whole.Gradient[i]).Within(2e-5f * scale), $"θ[{i}]");
    }

    [Test]
    public void WarmSplitEvaluationsAndVjps_AllocateNothing_OnAnyThread()
    {
        var field = new MlpVelocityField<float>(Mlp.Create<float>(2, [64, 64], 2, Activation.Tanh, TimeInput.Concat, seed: 1));
        var noise = GradientCheck.Random(512 * 2, 2).Select(v => v < 0 ? -1f : 1f).ToArray();
        var (f, y, cotangent, dydt, gradY, gradTheta) = ForcedRowSplit.With(2, () =>
        {
            var dynamics = new NeuralOde.Core.Flows.CnfDynamics<float>(field, 512, new HutchinsonDivergence(), new CnfRegularization(0.1, 0.1), noise);
            var state = GradientCheck.Random(dynamics.Dimension, 4).Select(v => (float)v).ToArray();
            var seed = GradientCheck.Random(dynamics.Dimension, 6).Select(v => (float)v).ToArray();
            var values = new float[dynamics.Dimension];
            dynamics.Evaluate(0.2, state, values); // builds the blocks (2 of them, forced) and warms them
            return (dynamics, state, seed, values, new float[dynamics.Dimension], new float[dynamics.Parameters.Length]);
        });
        void Calls()
        {
            for (int i = 0; i < 3; i++)
            {
                f.Evaluate(0.2, y, dydt);
                f.EvaluateAndVjp(0.2, y, cotangent, dydt, gradY, gradTheta);
            }
        }
        Calls();
        Assert.That(AllocationWindows.QuietestWithWorkers(Calls), Is.Zero, "bytes allocated by the caller and the pool's workers");
    }

    [Test]
    public void LargeBatch_IsSplitOnAMachineOfSeveralCores_AndRecordingStrategiesSeeOneBlock()
    {
        var field = new MlpVelocityField<float>(Mlp.Create<float>(2, [64, 64, 64], 2, Activation.Tanh, TimeInput.Concat, seed: 0));
        var f = new NeuralOde.Core.Flows.CnfDynamics<float>(field, 512, Divergence.Exact, CnfRegularization.None, []);
        Assert.That(f.IndependentRows, Is.EqualTo(1), "the state is column groups, not rows one after another: recording strategies and Jacobians see one block");
        Assert.That(f.Parameters.Length * 512L, Is.GreaterThanOrEqualTo(RowSplit.MinimumWork));
        Assert.That(RowSplit.Parts(f.Groups.Rows, f.Parameters.Length), Is.EqualTo(Math.Min(NeuralOde.AutoDiff.Threading.WorkerPool.Shared.Participants, 512 / RowSplit.MinimumRowsPerPart)),
            "W2's batch of 512 points with 8.6k parameters is split over the pool's threads");
    }
}
