using System.Numerics;
using BenchmarkDotNet.Attributes;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Benchmarks.Gradients;

/// <summary>
/// One gradient through N fixed RK4 steps (the 3/8 rule) of W4's dynamics (MLP 2 → 64 → 64 → 2, tanh, batch 256), per
/// strategy: time and managed allocation against the step count. Peak memory per strategy, measured in fresh
/// processes, is the peer runner's W4 (<c>peer --only W4</c>); here the same work is timed warm.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
[MemoryDiagnoser]
[GenericTypeArguments(typeof(float))]
[GenericTypeArguments(typeof(double))]
public class GradientStrategyBench<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tape<T> tape = new();
    private MlpDynamics<T> f = null!;
    private T[] y0 = [];
    private ISensitivity sensitivity = null!;
    private SolveOptions options = null!;

    /// <summary>W4's strategy names (reversible runs reversible Heun on the same grid; reversible-rk wraps the same RK4).</summary>
    public static IEnumerable<string> Strategies => PeerWorkloads.W4Memory.StrategyNames;

    /// <summary>The strategy.</summary>
    [ParamsSource(nameof(Strategies))]
    public string Strategy { get; set; } = "backprop";

    /// <summary>Fixed steps over [0, 1].</summary>
    [Params(10, 100, 1000)]
    public int Steps { get; set; }

    /// <summary>Builds the network (seed 0), the initial states and the strategy.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var network = Mlp.Create<T>(2, [64, 64], 2, Activation.Tanh, TimeInput.None, seed: 0);
        f = new MlpDynamics<T>(network, 256);
        var random = new Random(1);
        y0 = [.. Enumerable.Range(0, 512).Select(_ => T.CreateTruncating(random.NextDouble() * 4 - 2))];
        sensitivity = PeerWorkloads.W4Memory.Strategy(Strategy);
        options = Strategy == "reversible"
            ? new SolveOptions { StepSize = new FixedStep(1.0 / Steps) }
            : new SolveOptions { Method = Tableaus.ThreeEighths, StepSize = new FixedStep(1.0 / Steps) };
    }

    /// <summary>Forward solve, loss Σ y(1)², backward.</summary>
    /// <returns>The loss.</returns>
    [Benchmark]
    public T ForwardBackward()
    {
        tape.Reset();
        f.Parameters.ZeroGradients();
        var solve = OdeLayer.Solve(tape, f, tape.Constant(y0, new Shape(256, 2)), SaveAt.End(0, 1), options, sensitivity);
        var loss = Ops.Sum(Ops.Square(solve.Final));
        tape.Backward(loss);
        return loss.Value[0];
    }
}
