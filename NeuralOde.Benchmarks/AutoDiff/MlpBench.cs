using System.Numerics;
using BenchmarkDotNet.Attributes;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.Benchmarks.AutoDiff;

/// <summary>
/// The W6 network, 3 → 64 → 64 → 64 → 2 tanh at batch 512: forward, and forward + backward of sum(net(x)) into the
/// parameter gradients (the input needs no gradient), as the peer's <c>mlp_fwd</c> / <c>mlp_fwd_bwd</c>.
/// </summary>
/// <remarks>fwd+bwd is 25.95 MFLOP of matrix products (see ../shared/peer-workloads.md, W6); the peer needs 796 µs.</remarks>
[MemoryDiagnoser]
[GenericTypeArguments(typeof(float))]
[GenericTypeArguments(typeof(double))]
public class MlpBench<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int Batch = 512;
    private readonly Tape<T> tape = new();
    private Mlp<T> network = null!;
    private T[] input = [];

    [GlobalSetup]
    public void Setup()
    {
        network = Mlp.Create<T>(3, [64, 64, 64], 2, Activation.Tanh, TimeInput.None, seed: 0);
        var random = new Random(1);
        input = new T[Batch * 3];
        for (int i = 0; i < input.Length; i++) input[i] = T.CreateTruncating(random.NextDouble() * 2 - 1);
        ForwardBackward();
    }

    [Benchmark]
    public T Forward()
    {
        tape.Reset();
        var y = network.Forward(tape, tape.Constant(input, new Shape(Batch, 3)), T.Zero);
        return y.Value[0];
    }

    [Benchmark]
    public T ForwardBackward()
    {
        tape.Reset();
        network.Parameters.ZeroGradients();
        var loss = Ops.Sum(network.Forward(tape, tape.Constant(input, new Shape(Batch, 3)), T.Zero));
        tape.Backward(loss);
        return loss.Value[0];
    }
}
