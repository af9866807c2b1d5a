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

    private static T Split<T>(int parts, Func<T> body)
    {
        RowSplit.ForcedParts = parts;
        try
        {
            return body();
        }
        finally
        {
            RowSplit.ForcedParts = null;
        }
    }

    private static MlpDynamics<double> Network() =>
        new(Mlp.Create<double>(3, [24, 24], 3, Activation.Tanh, TimeInput.Concat, seed: 5), Batch);

    private static double[] State(int seed) => GradientCheck.Random(Batch * 3, seed, -1.5, 1.5);

    [TestCase(2)]
    [TestCase(3)]
    public void SplitEvaluation_EqualsTheUnsplitOneBitwise(int parts)
    {
        var y = State(1);
        double[] Evaluate(int p) => Split(p, () =>
        {
            var f = Network();
            var dydt = new double[y.Length];
            f.Evaluate(0.3, y, dydt);
            return dydt;
        });
        Assert.That(Evaluate(parts), Is.EqualTo(Evaluate(1)));
    }

    [TestCase(2)]
    [TestCase(3)]
    public void SplitVjp_GivesTheUnsplitStateCotangentBitwise_AndTheParameterGradientToRounding(int parts)
    {
        var y = State(2);
        var cotangent = State(3);
        (double[] F, double[] GradY, double[] GradTheta) Vjp(int p) => Split(p, () =>
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
        (double[] Outputs, double[] GradY0, double[] GradTheta, long Nfe) Solve(int parts) => Split(parts, () =>
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
        long allocated = Split(2, () =>
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
            long before = GC.GetAllocatedBytesForCurrentThread();
            Calls();
            return GC.GetAllocatedBytesForCurrentThread() - before;
        });
        Assert.That(allocated, Is.Zero);
    }

    [Test]
    public void SplitBackprop_RecordsTheSameBytesAsUnsplit()
    {
        long Recorded(int parts) => Split(parts, () =>
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
        Assert.That(Split(1000, () => RowSplit.Parts<float>(w1Like)), Is.EqualTo(20), "a forced split is capped at one row per block");
    }

    [Test]
    public void SplitDynamicsThatRecordAnotherParameterSet_AreRefused()
    {
        var f = Split(2, () =>
        {
            var dynamics = new ForeignParameterDynamics();
            Assert.That(() => dynamics.Evaluate(0, new double[8], new double[8]),
                Throws.InvalidOperationException.With.Message.Contains("must belong to their Parameters"));
            return dynamics;
        });
        Assert.That(f.IndependentRows, Is.EqualTo(4));
    }

    [TestCase(1, false)]
    [TestCase(2, true)]
    public void StepwiseStrategies_RecordInBlocksWhenSplit(int parts, bool split)
    {
        // Only a split recording checks that every recorded parameter belongs to the dynamics' own set.
        TestDelegate solve = () => Split(parts, () =>
        {
            var tape = new Tape<double>();
            var options = new SolveOptions { Method = Tableaus.ThreeEighths, StepSize = new FixedStep(0.5) };
            return OdeLayer.Solve(tape, new ForeignParameterDynamics(), tape.Variable(new double[8], new Shape(4, 2)), SaveAt.End(0, 1), options, new Backprop());
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
            : base(new ParameterSet<double>(), new Shape(4, 2))
        {
            scale = other.Add("scale", new Shape(1, 2));
        }

        public override int IndependentRows => 4;

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
