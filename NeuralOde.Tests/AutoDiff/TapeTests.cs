using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.AutoDiff.Optim;

namespace NeuralOde.Tests.AutoDiff;

/// <summary>The tape's contracts: accumulation, sinks, arenas, and errors that name what is wrong.</summary>
public class TapeTests
{
    [Test]
    public void NodeUsedTwice_ReceivesBothContributions()
    {
        var tape = new Tape<double>();
        var x = tape.Variable([3.0], Shape.Scalar);
        var y = x * x + x; // dy/dx = 2x + 1 = 7
        tape.Backward(y);
        Assert.That(x.Gradient[0], Is.EqualTo(7.0));
    }

    [Test]
    public void ParameterRecordedTwice_AccumulatesIntoOneGradient()
    {
        var set = new ParameterSet<double>();
        var w = set.Add("w", Shape.Scalar);
        set.Values[0] = 2.0;
        var tape = new Tape<double>();
        var y = tape.Parameter(w) * tape.Parameter(w); // d(w²)/dw = 4
        tape.Backward(y);
        tape.Reset();
        var z = Ops.Scale(tape.Parameter(w), 3.0); // parameter gradients accumulate across sweeps: 4 + 3
        tape.Backward(z);
        Assert.That(set.Gradients[0], Is.EqualTo(7.0));
    }

    [Test]
    public void GradientSinkInto_RedirectsOneSetAndLeavesItsOwnGradientsUntouched()
    {
        var set = new ParameterSet<double>();
        var w = set.Add("w", new Shape(1, 2));
        set.Values[0] = 2.0;
        set.Values[1] = -1.0;
        var destination = new double[2] { 10, 20 };
        var tape = new Tape<double>();
        var x = tape.Variable([1.5, 0.5], new Shape(1, 2));
        var y = tape.Parameter(w) * x;
        tape.Backward(y, [1.0, 2.0], GradientSink<double>.Into(set, destination));
        Assert.That(destination, Is.EqualTo(new[] { 10 + 1.5, 20 + 2 * 0.5 }));
        Assert.That(set.Gradients.ToArray(), Is.EqualTo(new[] { 0.0, 0.0 }));
        Assert.That(x.Gradient.ToArray(), Is.EqualTo(new[] { 2.0, -2.0 }));
    }

    [Test]
    public void ValuesLargerThanAChunk_GetTheirOwnBlockAndStayIntact()
    {
        var tape = new Tape<double>(chunkLength: 8);
        var a = tape.Constant(Enumerable.Range(0, 5).Select(i => (double)i).ToArray(), new Shape(1, 5));
        var big = tape.Variable(Enumerable.Range(0, 20).Select(i => (double)i).ToArray(), new Shape(4, 5));
        var c = Ops.Sum(Ops.Square(big));
        Assert.That(a.Value.ToArray(), Is.EqualTo(new double[] { 0, 1, 2, 3, 4 }));
        Assert.That(c.Value[0], Is.EqualTo(Enumerable.Range(0, 20).Sum(i => (double)i * i)));
        tape.Backward(c);
        Assert.That(big.Gradient.ToArray(), Is.EqualTo(Enumerable.Range(0, 20).Select(i => 2.0 * i).ToArray()));
    }

    [Test]
    public void Reset_KeepsCapacity_SoARepeatedRecordingAllocatesNothing()
    {
        var net = Mlp.Create<float>(3, [64, 64, 64], 2, Activation.Tanh, TimeInput.None, seed: 0);
        var x = new float[512 * 3];
        var tape = new Tape<float>();
        void Iteration()
        {
            var y = net.Forward(tape, tape.Constant(x, new Shape(512, 3)), 0f);
            tape.Backward(Ops.Sum(y));
            tape.Reset();
        }
        Iteration();
        Iteration();
        long reserved = tape.BytesReserved;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) Iteration();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero);
        Assert.That(tape.BytesReserved, Is.EqualTo(reserved));
    }

    [Test]
    public void Add_ThrowsForShapeMismatch_NamingBothShapes()
    {
        var tape = new Tape<double>();
        var a = tape.Constant(new double[6], new Shape(2, 3));
        var b = tape.Constant(new double[6], new Shape(3, 2));
        var e = Assert.Throws<ArgumentException>(() => Ops.Add(a, b))!;
        Assert.That(e.ParamName, Is.EqualTo("b"));
        Assert.That(e.Message, Does.Contain("3×2").And.Contain("2×3"));
    }

    [Test]
    public void Linear_ThrowsForWeightOfWrongWidth()
    {
        var tape = new Tape<double>();
        var x = tape.Constant(new double[6], new Shape(2, 3));
        var w = tape.Constant(new double[8], new Shape(2, 4));
        var e = Assert.Throws<ArgumentException>(() => Ops.Linear(x, w, null))!;
        Assert.That(e.ParamName, Is.EqualTo("weight"));
        Assert.That(e.Message, Does.Contain("2×4"));
    }

    [Test]
    public void Backward_ThrowsForNonFiniteSeed_NamingTheElement()
    {
        var tape = new Tape<double>();
        var x = tape.Variable([1.0, 2.0], new Shape(1, 2));
        var y = Ops.Exp(x);
        var e = Assert.Throws<ArgumentException>(() => tape.Backward(y, [1.0, double.NaN], GradientSink<double>.ParameterGradients))!;
        Assert.That(e.ParamName, Is.EqualTo("seed"));
        Assert.That(e.Message, Does.Contain("Element 1").And.Contain("NaN"));
    }

    [Test]
    public void Backward_ThrowsForSeedOfWrongLength()
    {
        var tape = new Tape<double>();
        var y = Ops.Exp(tape.Variable([1.0, 2.0], new Shape(1, 2)));
        var e = Assert.Throws<ArgumentException>(() => tape.Backward(y, [1.0], GradientSink<double>.ParameterGradients))!;
        Assert.That(e.ParamName, Is.EqualTo("seed"));
        Assert.That(e.Message, Does.Contain("1").And.Contain("2"));
    }

    [Test]
    public void BackwardWithoutSeed_ThrowsForNonScalarOutput()
    {
        var tape = new Tape<double>();
        var y = Ops.Exp(tape.Variable([1.0, 2.0], new Shape(1, 2)));
        var e = Assert.Throws<ArgumentException>(() => tape.Backward(y))!;
        Assert.That(e.Message, Does.Contain("1×2"));
    }

    [Test]
    public void HandleFromResetTape_Throws()
    {
        var tape = new Tape<double>();
        var x = tape.Variable([1.0], Shape.Scalar);
        tape.Reset();
        var e = Assert.Throws<InvalidOperationException>(() => Ops.Exp(x))!;
        Assert.That(e.Message, Does.Contain("reset"));
    }

    [Test]
    public void HandleFromAnotherTape_Throws()
    {
        var tape1 = new Tape<double>();
        var tape2 = new Tape<double>();
        var a = tape1.Variable([1.0], Shape.Scalar);
        var b = tape2.Variable([1.0], Shape.Scalar);
        var e = Assert.Throws<ArgumentException>(() => Ops.Add(a, b))!;
        Assert.That(e.ParamName, Is.EqualTo("b"));
    }

    [Test]
    public void GradientSinkInto_ThrowsForWrongLength()
    {
        var set = new ParameterSet<double>();
        set.Add("w", new Shape(2, 3));
        var e = Assert.Throws<ArgumentException>(() => GradientSink<double>.Into(set, new double[5]))!;
        Assert.That(e.ParamName, Is.EqualTo("destination"));
        Assert.That(e.Message, Does.Contain("5").And.Contain("6"));
    }

    [Test]
    public void Constant_ThrowsForDataOfWrongLength()
    {
        var tape = new Tape<double>();
        var e = Assert.Throws<ArgumentException>(() => tape.Constant(new double[5], new Shape(2, 3)))!;
        Assert.That(e.ParamName, Is.EqualTo("data"));
    }

    [Test]
    public void ParameterSet_ThrowsWhenAddingAfterFreeze()
    {
        var set = new ParameterSet<double>();
        set.Add("a", Shape.Scalar);
        _ = set.Values;
        Assert.Throws<InvalidOperationException>(() => set.Add("b", Shape.Scalar));
    }

    [Test]
    public void SoftmaxCrossEntropy_ThrowsForLabelOutOfRange()
    {
        var tape = new Tape<double>();
        var logits = tape.Variable(new double[6], new Shape(2, 3));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.SoftmaxCrossEntropy(logits, [0, 3]))!;
        Assert.That(e.ParamName, Is.EqualTo("labels"));
    }

    [Test]
    public void Rollback_ForgetsLaterNodesAndReusesTheirMemory()
    {
        var tape = new Tape<double>();
        var a = tape.Variable([1.0, 2.0], new Shape(1, 2));
        var mark = tape.Mark();
        long bytes = tape.ValueBytesInUse;
        _ = Ops.Exp(Ops.Square(a));
        tape.Rollback(mark);
        Assert.That(tape.Count, Is.EqualTo(1));
        Assert.That(tape.ValueBytesInUse, Is.EqualTo(bytes));
        var b = Ops.Scale(a, 3.0);
        tape.Backward(Ops.Sum(b));
        Assert.That(a.Gradient.ToArray(), Is.EqualTo(new[] { 3.0, 3.0 }));
    }

    [Test]
    public void RangedSweep_DifferentiatesOneSubgraphAlone()
    {
        var set = new ParameterSet<double>();
        var w = set.Add("w", new Shape(1, 2));
        set.Values[0] = 0.5;
        set.Values[1] = -2.0;
        var tape = new Tape<double>();
        // An earlier, unrelated sub-graph that the ranged sweep must not visit.
        var unrelated = tape.Variable([4.0], Shape.Scalar);
        _ = Ops.Exp(unrelated);
        int first = tape.Count;
        var x = tape.Variable([1.0, 3.0], new Shape(1, 2));
        var y = Ops.Tanh(tape.Parameter(w) * x);
        var destination = new double[2];
        tape.Sweep(first, tape.Count - 1, [1.0, 1.0], GradientSink<double>.Into(set, destination));
        for (int i = 0; i < 2; i++)
        {
            double u = set.Values[i] * (i == 0 ? 1.0 : 3.0);
            double d = 1 - Math.Tanh(u) * Math.Tanh(u);
            Assert.That(tape.Gradient(x.Index)[i], Is.EqualTo(d * set.Values[i]).Within(1e-15));
            Assert.That(destination[i], Is.EqualTo(d * (i == 0 ? 1.0 : 3.0)).Within(1e-15));
        }
        Assert.That(y.Value.Length, Is.EqualTo(2));
    }

    private sealed class Doubling : ICustomBackward<double>
    {
        public void Backward(Tape<double> tape, int index)
        {
            var g = tape.Gradient(index);
            var gx = tape.Gradient(tape.Node(index).Input0);
            for (int i = 0; i < g.Length; i++) gx[i] += 2 * g[i];
        }
    }

    [Test]
    public void CustomBackward_RunsInTheSweepAndAccumulates()
    {
        var tape = new Tape<double>();
        var x = tape.Variable([1.0, -1.0], new Shape(1, 2));
        int index = tape.PushCustom(new Doubling(), new Shape(1, 2), requiresGrad: true, x.Index);
        var y = tape.Handle(index);
        x.Value.CopyTo(tape.Value(index));
        tape.Backward(Ops.Sum(y + x)); // d/dx (2x + x) = 3
        Assert.That(x.Gradient.ToArray(), Is.EqualTo(new[] { 3.0, 3.0 }));
    }

    /// <summary>
    /// A warm training step (MLP forward, loss, backward, Adam step, Reset) allocates nothing, counted on this thread
    /// and process-wide (the second sees the GEMM worker threads too).
    /// </summary>
    [Test]
    public void WarmTrainingStep_AllocatesZeroBytes()
    {
        const int batch = 512;
        var net = Mlp.Create<float>(3, [64, 64, 64], 2, Activation.Tanh, TimeInput.Concat, seed: 0);
        var adam = new Adam<float>(net.Parameters, learningRate: 1e-3);
        var x = new float[batch * 3];
        var target = new float[batch * 2];
        for (int i = 0; i < x.Length; i++) x[i] = MathF.Sin(i);
        var tape = new Tape<float>();
        void Step()
        {
            adam.ZeroGradients();
            var y = net.Forward(tape, tape.Constant(x, new Shape(batch, 3)), 0.5f);
            tape.Backward(Ops.MeanSquaredError(y, tape.Constant(target, new Shape(batch, 2))));
            adam.Step();
            tape.Reset();
        }
        for (int i = 0; i < 5; i++) Step();
        long thread = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) Step();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - thread, Is.Zero, "this thread");

        // The test host's own threads allocate about 2 KB a second while idle; a step that allocated on a worker
        // would make every window non-zero, so the quietest of many short windows must be exactly zero.
        long quietest = long.MaxValue;
        for (int window = 0; window < 40 && quietest != 0; window++)
        {
            long total = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < 3; i++) Step();
            quietest = Math.Min(quietest, GC.GetTotalAllocatedBytes(precise: true) - total);
        }
        Assert.That(quietest, Is.Zero, "process-wide");
    }
}
