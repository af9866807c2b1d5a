using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Dynamics;

/// <summary>
/// Row-independent dynamics evaluated in row blocks (one tape per block, blocks on the worker pool) give the unsplit
/// values and state cotangents bit for bit, and parameter gradients equal to rounding, through every path that
/// records them: Evaluate, EvaluateAndVjp, Backprop, Checkpointed and reversible RK.
/// </summary>
public class RowSplitTests
{
    private const int Batch = 70;

    private static MlpDynamics<double> Network() =>
        new(Mlp.Create<double>(3, [24, 24], 3, Activation.Tanh, TimeInput.Concat, seed: 5), Batch);

    private static double[] State(int seed) => GradientCheck.Random(Batch * 3, seed, -1.5, 1.5);

    [TestCase(2)]
    [TestCase(3)]
    public void SplitEvaluation_EqualsTheUnsplitOneBitwise(int parts)
    {
        var y = State(1);
        double[] Evaluate(int p) => ForcedRowSplit.With(p, () =>
        {
            var f = Network();
            var dydt = new double[y.Length];
            f.Evaluate(0.3, y, dydt);
            return dydt;
        });
        Assert.That(Evaluate(parts), Is.EqualTo(Evaluate(1)));
    }

    [TestCase(2)]
    [TestCase(4)]
    public void SplitSoftplusNetOfOddWidth_GivesTheUnsplitValuesAndStateCotangentsBitwise(int parts)
    {
        // Softplus's element-wise kernel ends each buffer with a scalar tail whose exp differs from the vector body's in
        // the last bits; blocks on 16-row boundaries keep every element in the same kind of lane as unsplit.
        var y = State(8);
        var cotangent = State(9);
        foreach (var type in new[] { typeof(float), typeof(double) })
        {
            (double[] F, double[] GradY) Vjp(int p) => ForcedRowSplit.With(p, () =>
            {
                if (type == typeof(float))
                {
                    var f = new MlpDynamics<float>(Mlp.Create<float>(3, [25, 25], 3, Activation.Softplus, TimeInput.Concat, seed: 6), Batch);
                    var dydt = new float[y.Length];
                    var gradY = new float[y.Length];
                    f.EvaluateAndVjp(0.3, y.Select(v => (float)v).ToArray(), cotangent.Select(v => (float)v).ToArray(), dydt, gradY, new float[f.Parameters.Length]);
                    return (dydt.Select(v => (double)v).ToArray(), gradY.Select(v => (double)v).ToArray());
                }
                var g = new MlpDynamics<double>(Mlp.Create<double>(3, [25, 25], 3, Activation.Softplus, TimeInput.Concat, seed: 6), Batch);
                var dydt64 = new double[y.Length];
                var gradY64 = new double[y.Length];
                g.EvaluateAndVjp(0.3, y, cotangent, dydt64, gradY64, new double[g.Parameters.Length]);
                return (dydt64, gradY64);
            });
            var whole = Vjp(1);
            var split = Vjp(parts);
            Assert.That(split.F, Is.EqualTo(whole.F), type.Name);
            Assert.That(split.GradY, Is.EqualTo(whole.GradY), type.Name);
        }
    }

    [Test]
    public void BlocksStartOnMultiplesOfSixteenRows_AndCoverEveryRow()
    {
        foreach (var (rows, parts) in new[] { (70, 2), (70, 4), (256, 2), (257, 3), (1000, 7) })
        {
            var starts = Enumerable.Range(0, parts + 1).Select(p => RowSplit.Start(rows, p, parts)).ToArray();
            Assert.That(starts[0], Is.Zero);
            Assert.That(starts[^1], Is.EqualTo(rows));
            Assert.That(starts[..^1].All(s => s % RowSplit.RowAlignment == 0), $"{rows} rows in {parts}: {string.Join(", ", starts)}");
            Assert.That(starts.Zip(starts.Skip(1)).All(pair => pair.Second > pair.First), "no block is empty");
        }
    }

    [TestCase(1)]
    [TestCase(2)]
    public void SpansOfTheWrongLength_AreRefusedWithTheirName(int parts)
    {
        ForcedRowSplit.With(parts, () =>
        {
            var f = Network();
            int n = f.Dimension, p = f.Parameters.Length;
            Assert.That(() => f.Evaluate(0, new double[n - 1], new double[n]), Throws.ArgumentException.With.Property("ParamName").EqualTo("y"));
            Assert.That(() => f.Evaluate(0, new double[n], new double[n + 3]), Throws.ArgumentException.With.Property("ParamName").EqualTo("dydt"));
            Assert.That(() => f.Evaluate(0, new double[n], []), Throws.ArgumentException.With.Property("ParamName").EqualTo("dydt"));
            Assert.That(() => f.Vjp(0, new double[n], new double[n - 3], new double[n], new double[p]), Throws.ArgumentException.With.Property("ParamName").EqualTo("cotangent"));
            Assert.That(() => f.Vjp(0, new double[n], new double[n], new double[n - 1], new double[p]), Throws.ArgumentException.With.Property("ParamName").EqualTo("gradY"));
            Assert.That(() => f.Vjp(0, new double[n], new double[n], new double[n], new double[p + 1]), Throws.ArgumentException.With.Property("ParamName").EqualTo("gradTheta"));
            return 0;
        });
    }

    [TestCase(2)]
    [TestCase(3)]
    public void SplitVjp_GivesTheUnsplitStateCotangentBitwise_AndTheParameterGradientToRounding(int parts)
    {
        var y = State(2);
        var cotangent = State(3);
        (double[] F, double[] GradY, double[] GradTheta) Vjp(int p) => ForcedRowSplit.With(p, () =>
        {
            var f = Network();
            var dydt = new double[y.Length];
            var gradY = new double[y.Length];
            var gradTheta = new double[f.Parameters.Length];
            f.EvaluateAndVjp(0.3, y, cotangent, dydt, gradY, gradTheta);
            return (dydt, gradY, gradTheta);
        });
        var whole = Vjp(1);
        var split = Vjp(parts);
        Assert.That(split.F, Is.EqualTo(whole.F));
        Assert.That(split.GradY, Is.EqualTo(whole.GradY));
        Assert.That(GradientCheck.MaxRelativeToLargest(split.GradTheta, whole.GradTheta), Is.LessThan(1e-14));
        Assert.That(whole.GradTheta.Max(Math.Abs), Is.GreaterThan(1e-3), "the gradient compared is not trivially zero");
    }

    public static IEnumerable<TestCaseData> Strategies()
    {
        // Adaptive Dormand–Prince with interpolated outputs (dense output, rejected steps rolled back) and fixed-step RK4.
        var adaptive = new SolveOptions { RelativeTolerance = 1e-7, AbsoluteTolerance = 1e-9 };
        var fixedRk4 = new SolveOptions { Method = Tableaus.ThreeEighths, StepSize = new FixedStep(0.05) };
        var bosh3 = new SolveOptions { Method = Tableaus.BogackiShampine32, RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-8 };
        yield return new TestCaseData(new Func<ISensitivity>(() => new Backprop()), adaptive).SetArgDisplayNames("Backprop", "Dopri5");
        yield return new TestCaseData(new Func<ISensitivity>(() => new Backprop()), fixedRk4).SetArgDisplayNames("Backprop", "RK4");
        yield return new TestCaseData(new Func<ISensitivity>(() => new Backprop()), bosh3).SetArgDisplayNames("Backprop", "Bosh3");
        yield return new TestCaseData(new Func<ISensitivity>(() => new Checkpointed { Budget = 4 }), adaptive).SetArgDisplayNames("CheckpointedBudget4", "Dopri5");
        yield return new TestCaseData(new Func<ISensitivity>(() => new Adjoint()), adaptive).SetArgDisplayNames("Adjoint", "Dopri5");
        yield return new TestCaseData(new Func<ISensitivity>(() => new ReversibleRungeKutta()), fixedRk4).SetArgDisplayNames("ReversibleRungeKutta", "RK4");
    }

    [TestCaseSource(nameof(Strategies))]
    public void SplitSolveGradients_EqualTheUnsplitOnes(Func<ISensitivity> strategy, SolveOptions options)
    {
        var y0 = State(4);
        (double[] Outputs, double[] GradY0, double[] GradTheta, long Nfe) Solve(int parts) => ForcedRowSplit.With(parts, () =>
        {
            var f = Network();
            var tape = new Tape<double>();
            var y = tape.Variable(y0, new Shape(Batch, 3));
            var solve = OdeLayer.Solve(tape, f, y, SaveAt.Times(0, 0.37, 0.8, 1.0), options, strategy());
            tape.Backward(Ops.Sum(Ops.Square(solve.States)));
            return (solve.States.Value.ToArray(), y.Gradient.ToArray(), f.Parameters.Gradients.ToArray(), solve.ForwardStats.FunctionEvaluations);
        });
        var whole = Solve(1);
        var split = Solve(2);
        Assert.That(split.Outputs, Is.EqualTo(whole.Outputs), "the forward solve is the same bit for bit");
        Assert.That(split.Nfe, Is.EqualTo(whole.Nfe));
        Assert.That(GradientCheck.MaxRelativeToLargest(split.GradY0, whole.GradY0), Is.LessThan(1e-12));
        Assert.That(GradientCheck.MaxRelativeToLargest(split.GradTheta, whole.GradTheta), Is.LessThan(1e-12));
    }

    [Test]
    public void WarmSplitEvaluations_AllocateNothingOnTheCaller()
    {
        var y = State(6);
        long allocated = ForcedRowSplit.With(2, () =>
        {
            var f = Network();
            var cotangent = State(7);
            var dydt = new double[y.Length];
            var gradY = new double[y.Length];
            var gradTheta = new double[f.Parameters.Length];
            void Calls()
            {
                for (int i = 0; i < 50; i++)
                {
                    f.Evaluate(0.1 * i, y, dydt);
                    f.EvaluateAndVjp(0.1 * i, y, cotangent, dydt, gradY, gradTheta);
                }
            }
            Calls();
            // The quietest of several windows, as the GEMM's allocation test: which thread runs which block changes from
            // run to run, so a one-time lazy allocation can land in any window, while a per-call one shows in all of them.
            long quietest = long.MaxValue;
            for (int attempt = 0; attempt < 20 && quietest != 0; attempt++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                Calls();
                quietest = Math.Min(quietest, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            return quietest;
        });
        Assert.That(allocated, Is.Zero);
    }

    [Test]
    public void SplitBackprop_RecordsTheSameBytesAsUnsplit()
    {
        long Recorded(int parts) => ForcedRowSplit.With(parts, () =>
        {
            var f = Network();
            var gradient = new BackpropGradient<double>(f.StateShape);
            gradient.Forward(f, State(5), SaveAt.End(0, 1), new SolveOptions { Method = Tableaus.ThreeEighths, StepSize = new FixedStep(0.1) }, new double[Batch * 3]);
            return gradient.RecordedBytes;
        });
        Assert.That(Recorded(3), Is.EqualTo(Recorded(1)));
    }

    [Test]
    public void Parts_AreOneForSmallWork_AndLeaveEachBlockEnoughRows()
    {
        var w1Like = new MlpDynamics<float>(Mlp.Create<float>(2, [50], 2, Activation.Tanh, TimeInput.None, seed: 0), 20);
        Assert.That(RowSplit.Parts<float>(w1Like), Is.EqualTo(1), "20 rows of a 2-50-2 net are not worth a hand-off");
        var w4Like = new MlpDynamics<float>(Mlp.Create<float>(2, [64, 64], 2, Activation.Tanh, TimeInput.None, seed: 0), 256);
        int parts = RowSplit.Parts<float>(w4Like);
        Assert.That(parts, Is.EqualTo(Math.Min(Environment.ProcessorCount, 256 / RowSplit.MinimumRowsPerPart)));
        Assert.That(ForcedRowSplit.With(1000, () => RowSplit.Parts<float>(w4Like)), Is.EqualTo(256 / RowSplit.RowAlignment), "a forced split is capped at 16 rows a block");
        Assert.That(ForcedRowSplit.With(2, () => RowSplit.Parts<float>(w1Like)), Is.EqualTo(1), "20 rows make one 16-row block");
    }

    [Test]
    public void SplitDynamicsThatRecordAnotherParameterSet_AreRefused()
    {
        var f = ForcedRowSplit.With(2, () =>
        {
            var dynamics = new ForeignParameterDynamics();
            Assert.That(() => dynamics.Evaluate(0, new double[64], new double[64]),
                Throws.InvalidOperationException.With.Message.Contains("must belong to their Parameters"));
            return dynamics;
        });
        Assert.That(f.IndependentRows, Is.EqualTo(32));
    }

    [TestCase(1, false)]
    [TestCase(2, true)]
    public void StepwiseStrategies_RecordInBlocksWhenSplit(int parts, bool split)
    {
        // Only a split recording checks that every recorded parameter belongs to the dynamics' own set.
        TestDelegate solve = () => ForcedRowSplit.With(parts, () =>
        {
            var tape = new Tape<double>();
            var options = new SolveOptions { Method = Tableaus.ThreeEighths, StepSize = new FixedStep(0.5) };
            return OdeLayer.Solve(tape, new ForeignParameterDynamics(), tape.Variable(new double[64], new Shape(32, 2)), SaveAt.End(0, 1), options, new Backprop());
        });
        if (split) Assert.That(solve, Throws.InvalidOperationException.With.Message.Contains("must belong to their Parameters"));
        else Assert.That(solve, Throws.Nothing);
    }

    [Test]
    public void IndependentRowsThatDoNotDivideTheDimension_AreRefused()
    {
        var f = new MisdeclaredRows();
        Assert.That(() => f.Evaluate(0, new double[6], new double[6]),
            Throws.ArgumentException.With.Message.Contains("4 independent rows").And.Message.Contains("dimension 6"));
    }

    /// <summary>y' = y ⊙ s per row, with the scale row s held in a parameter set other than the dynamics' own.</summary>
    private sealed class ForeignParameterDynamics : TapeDynamics<double>
    {
        private readonly ParameterSet<double> other = new();
        private readonly Parameter<double> scale;

        public ForeignParameterDynamics()
            : base(new ParameterSet<double>(), new Shape(32, 2))
        {
            scale = other.Add("scale", new Shape(1, 2));
        }

        public override int IndependentRows => 32;

        public override Var<double> Record(Tape<double> tape, double t, Var<double> y) => Ops.MultiplyRow(y, tape.Parameter(scale));
    }

    /// <summary>Claims 4 independent rows of a 6-element state.</summary>
    private sealed class MisdeclaredRows : TapeDynamics<double>
    {
        public MisdeclaredRows()
            : base(new ParameterSet<double>(), new Shape(6, 1))
        {
        }

        public override int IndependentRows => 4;

        public override Var<double> Record(Tape<double> tape, double t, Var<double> y) => y;
    }
}
