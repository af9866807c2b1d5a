using System.Diagnostics;
using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.AutoDiff.Optim;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;

namespace NeuralOde.Benchmarks.PeerWorkloads;

/// <summary>torchdiffeq's ode_demo model: y ↦ Linear(50,2)(tanh(Linear(2,50)(y³))), for a batch of 2-D states.</summary>
internal sealed class SpiralModel : TapeDynamics<float>
{
    private readonly Linear<float> hidden;
    private readonly Linear<float> output;

    public SpiralModel(int batch)
        : base(new ParameterSet<float>(), new Shape(batch, 2))
    {
        var random = new Random(0);
        hidden = new Linear<float>(Parameters, "net.0", 2, 50, random);
        output = new Linear<float>(Parameters, "net.2", 50, 2, random);
    }

    public override Var<float> Record(Tape<float> tape, double t, Var<float> y) =>
        output.Forward(tape, hidden.Forward(tape, Ops.Multiply(Ops.Square(y), y), Activation.Tanh));
}

/// <summary>
/// W1: the spiral fit of torchdiffeq's ode_demo with Adam lr 1e-3: batches of 20 random starting points of the true
/// trajectory, 10 time points, loss mean|pred − y|, dopri5 at rtol 1e-7, atol 1e-9 (the torchdiffeq-compatible
/// preset). The fixed-work row uses the fixture's weights and first batch; the training rows time iterations 10..60
/// of 200-iteration runs (batch indices from our own seeded stream: numpy's cannot be reproduced bit for bit), and the
/// trajectory loss after the run is the median over the runs' seeds.
/// </summary>
internal sealed class W1Spiral : IPeerWorkload
{
    private const int BatchSize = 20;
    private const int BatchTime = 10;

    public string Name => "W1";

    internal static readonly (string Mode, Func<ISensitivity> Create)[] Modes =
        [("backprop", () => new Backprop()), ("adjoint", () => new Adjoint { TorchdiffeqCompatible = true })];

    public IEnumerable<PeerResult> Run(bool quick)
    {
        var fixture = FixtureFile.Load("w1");
        var trueY = fixture.Array<float>("true_y");
        // t = linspace(0, 25, 1000) in float32; the fixture's batch_t holds its first 10 values exactly.
        double[] batchTimes = [.. fixture.Array<float>("batch_t").Select(v => (double)v)];
        double[] t = [.. Enumerable.Range(0, 1000).Select(i => (double)(float)(25.0 * i / 999))];
        var options = SolveOptions.Torchdiffeq(1e-7, 1e-9);
        int runs = quick ? 1 : 5;
        int iterations = quick ? 61 : 200;

        foreach (var (mode, create) in Modes)
        {
            var timings = new List<double>();
            PeerResult? fixedWork = null;
            var trajectoryLosses = new List<double>();
            long nfeF = 0, nfeB = 0;
            for (int run = 0; run < runs; run++)
            {
                var f = new SpiralModel(BatchSize);
                fixture.LoadInto(f.Parameters);
                var sensitivity = create();
                var adam = new Adam<float>(f.Parameters, learningRate: 1e-3);
                var tape = new Tape<float>();
                var random = new Random(run);
                var y0 = new float[BatchSize * 2];
                var target = new float[BatchTime * BatchSize * 2];
                for (int it = 0; it < iterations; it++)
                {
                    if (it == 0)
                    {
                        fixture.Array<float>("batch_y0").CopyTo(y0, 0);
                        fixture.Array<float>("batch_y").CopyTo(target, 0);
                    }
                    else
                    {
                        SampleBatch(random, trueY, y0, target);
                    }
                    long start = Stopwatch.GetTimestamp();
                    adam.ZeroGradients();
                    tape.Reset();
                    var solve = OdeLayer.Solve(tape, f, tape.Constant(y0, new Shape(BatchSize, 2)), SaveAt.Times(batchTimes), options, sensitivity);
                    var loss = Ops.MeanAbsoluteError(solve.States, tape.Constant(target, solve.States.Shape));
                    tape.Backward(loss);
                    if (it == 0 && run == 0)
                    {
                        double norm = Math.Sqrt(f.Parameters.Gradients.ToArray().Sum(g => (double)g * g));
                        fixedWork = new PeerResult
                        {
                            Workload = Name, Mode = $"{mode} fixed-work", Unit = "fwd+bwd",
                            FixedWork = new FixedWork(loss.Value[0], norm, solve.ForwardStats.FunctionEvaluations, solve.BackwardStats?.FunctionEvaluations ?? 0, Timing.Of([Stopwatch.GetElapsedTime(start).TotalSeconds])),
                        };
                    }
                    adam.Step();
                    double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                    if (it is >= 10 and <= 60)
                    {
                        timings.Add(seconds);
                        nfeF += solve.ForwardStats.FunctionEvaluations;
                        nfeB += solve.BackwardStats?.FunctionEvaluations ?? 0;
                    }
                }
                trajectoryLosses.Add(TrajectoryLoss(f, trueY, t));
            }
            yield return fixedWork!;
            yield return new PeerResult
            {
                Workload = Name, Mode = mode, Unit = "iteration", Seconds = Timing.Of(timings),
                NfeF = nfeF / timings.Count, NfeB = nfeB / timings.Count,
                // The peer asks for the median over seeds of the 200-iteration trajectory loss (no target).
                Metric = new Metric($"traj. loss@{iterations}, median of {runs}", Timing.Of(trajectoryLosses).Median),
                PeerSeconds = mode == "backprop" ? 0.0076 : 0.056,
            };
        }
    }

    /// <summary>20 distinct start indices in [0, 990) and the 10 points that follow each.</summary>
    private static void SampleBatch(Random random, float[] trueY, float[] y0, float[] target)
    {
        Span<int> chosen = stackalloc int[BatchSize];
        for (int b = 0; b < BatchSize; b++)
        {
            int s;
            do { s = random.Next(990); } while (chosen[..b].Contains(s));
            chosen[b] = s;
            y0[2 * b] = trueY[2 * s];
            y0[2 * b + 1] = trueY[2 * s + 1];
            for (int i = 0; i < BatchTime; i++)
            {
                target[(i * BatchSize + b) * 2] = trueY[2 * (s + i)];
                target[(i * BatchSize + b) * 2 + 1] = trueY[2 * (s + i) + 1];
            }
        }
    }

    /// <summary>The demo's "Total Loss": mean|odeint(func, y0, t) − true_y| over all 1000 points.</summary>
    private static double TrajectoryLoss(SpiralModel trained, float[] trueY, double[] t)
    {
        var single = new SpiralModel(1);
        trained.Parameters.Values.CopyTo(single.Parameters.Values);
        var solution = Ode.Solve<float>(single, [2f, 0f], SaveAt.Times(t), SolveOptions.Torchdiffeq(1e-7, 1e-9));
        double sum = 0;
        var values = solution.Values;
        for (int i = 0; i < values.Length; i++) sum += Math.Abs(values[i] - trueY[i]);
        return sum / values.Length;
    }
}
