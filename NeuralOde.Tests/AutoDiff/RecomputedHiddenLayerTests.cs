using System.Numerics;
using System.Runtime.CompilerServices;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Tests.AutoDiff;

/// <summary>
/// A long recording does not keep a narrow-input network's first hidden layer (the reverse sweep recomputes it): the
/// gradients are bitwise those of short recordings, which keep it, and the tape holds that layer's values less.
/// </summary>
public class RecomputedHiddenLayerTests
{
    private const int Rows = 32;
    private const int Hidden = 16;
    private const int Evaluations = 3;

    private static Mlp<T> Network<T>(TimeInput timeInput)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Mlp.Create<T>(2, [Hidden, Hidden], 2, Activation.Tanh, timeInput, seed: 5);

    private static T[] Input<T>(int evaluation)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        [.. Enumerable.Range(0, Rows * 2).Select(i => T.CreateTruncating(Math.Sin(0.37 * i + evaluation) * 1.3))];

    /// <summary>Loss sum(net(x)²) of one evaluation at time 0.25; returns the loss node.</summary>
    private static Var<T> Loss<T>(Tape<T> tape, Mlp<T> network, Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Ops.Sum(Ops.Square(network.Forward(tape, x, T.CreateTruncating(0.25))));

    [TestCase(TimeInput.None)]
    [TestCase(TimeInput.Concat)]
    public void LongRecording_GradientsAreBitwiseThoseOfShortRecordings_Float(TimeInput timeInput) => CheckBitwise<float>(timeInput);

    [TestCase(TimeInput.None)]
    [TestCase(TimeInput.Concat)]
    public void LongRecording_GradientsAreBitwiseThoseOfShortRecordings_Double(TimeInput timeInput) => CheckBitwise<double>(timeInput);

    private static void CheckBitwise<T>(TimeInput timeInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Short recordings, one tape each (far below the threshold: the hidden layer is kept), last evaluation first,
        // the order in which one long sweep meets them, so the parameter gradients add up in the same order.
        var reference = Network<T>(timeInput);
        var shortTape = new Tape<T>();
        var inputGradients = new T[Evaluations][];
        long keptBytes = 0;
        for (int e = Evaluations - 1; e >= 0; e--)
        {
            shortTape.Reset();
            var x = shortTape.Variable(Input<T>(e), new Shape(Rows, 2));
            long before = shortTape.ValueBytesInUse;
            reference.Forward(shortTape, x, T.CreateTruncating(0.25));
            keptBytes = shortTape.ValueBytesInUse - before;
            shortTape.Reset();
            x = shortTape.Variable(Input<T>(e), new Shape(Rows, 2));
            shortTape.Backward(Loss(shortTape, reference, x));
            inputGradients[e] = x.Gradient.ToArray();
        }

        // One long recording: a constant as large as the threshold first, then every evaluation and the summed loss.
        var network = Network<T>(timeInput);
        var longTape = new Tape<T>();
        longTape.Constant(new T[Mlp<T>.RecomputeFromValueBytes / Unsafe.SizeOf<T>()]);
        var xs = new Var<T>[Evaluations];
        Var<T>? total = null;
        long recomputedBytes = 0;
        for (int e = 0; e < Evaluations; e++)
        {
            xs[e] = longTape.Variable(Input<T>(e), new Shape(Rows, 2));
            long before = longTape.ValueBytesInUse;
            var y = network.Forward(longTape, xs[e], T.CreateTruncating(0.25));
            recomputedBytes = longTape.ValueBytesInUse - before;
            var loss = Ops.Sum(Ops.Square(y));
            total = total is { } sum ? sum + loss : loss;
        }
        longTape.Backward(total!.Value);

        Assert.That(keptBytes - recomputedBytes, Is.EqualTo((long)Rows * Hidden * Unsafe.SizeOf<T>()), "the long recording keeps the first hidden layer less");
        Assert.That(network.Parameters.Gradients.ToArray(), Is.EqualTo(reference.Parameters.Gradients.ToArray()));
        Assert.That(network.Parameters.Gradients.ToArray().Any(g => g != T.Zero), Is.True);
        for (int e = 0; e < Evaluations; e++) Assert.That(xs[e].Gradient.ToArray(), Is.EqualTo(inputGradients[e]), $"evaluation {e}");
    }

    [Test]
    public void BackpropThroughALongSolve_EqualsCheckpointedBitwise()
    {
        // 2→32→32→2 at batch 64 through 300 RK4 steps: Backprop keeps about 40 MiB of values (past the threshold after a
        // third of them, BackpropMemoryTests has the bytes); Checkpointed recomputes each step on a short recording.
        const int batch = 64;
        var y0 = Enumerable.Range(0, batch * 2).Select(i => Math.Cos(0.11 * i) * 0.8).ToArray();
        var options = new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(1.0 / 300) };

        (double[] Parameters, double[] State) Gradients(ISensitivity sensitivity)
        {
            var network = Mlp.Create<double>(2, [32, 32], 2, Activation.Tanh, TimeInput.None, seed: 3);
            var f = new MlpDynamics<double>(network, batch);
            var tape = new Tape<double>();
            var x0 = tape.Variable(y0, new Shape(batch, 2));
            var solve = OdeLayer.Solve(tape, f, x0, SaveAt.End(0, 1), options, sensitivity);
            tape.Backward(Ops.Sum(Ops.Square(solve.Final)));
            return (network.Parameters.Gradients.ToArray(), x0.Gradient.ToArray());
        }

        var backprop = Gradients(new Backprop());
        var checkpointed = Gradients(new Checkpointed());
        Assert.That(backprop.Parameters, Is.EqualTo(checkpointed.Parameters));
        Assert.That(backprop.State, Is.EqualTo(checkpointed.State));
    }
}
