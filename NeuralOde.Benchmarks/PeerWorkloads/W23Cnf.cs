using System.Diagnostics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core.Flows;
using NeuralOde.Core.Sensitivity;

namespace NeuralOde.Benchmarks.PeerWorkloads;

/// <summary>
/// W2 (exact-trace CNF on circles, t = 10 → 0, base N(0, 0.1·I)) and W3 (FFJORD's Hutchinson estimator on 8 Gaussians,
/// t = 0 → 0.5, base N(0, I)): the fixed-work runs from the fixtures' weights, batch and noise, one forward + backward
/// each, backprop and the torchdiffeq-compatible adjoint; median over repeats. The training runs with held-out NLL are
/// <see cref="W23Training"/>.
/// </summary>
internal sealed class W23Cnf : IPeerWorkload
{
    public string Name => "W2/W3";

    public IEnumerable<PeerResult> Run(bool quick)
    {
        int repeats = quick ? 3 : 5;
        foreach (string mode in new[] { "backprop", "adjoint" })
        {
            yield return FixedWork("W2", mode, repeats, mode == "backprop" ? 0.179 : 0.248);
            yield return FixedWork("W3", mode, repeats, null);
        }
    }

    private static PeerResult FixedWork(string workload, string mode, int repeats, double? peer)
    {
        var fixture = FixtureFile.Load(workload.ToLowerInvariant());
        var network = Mlp.Create<float>(2, [64, 64, 64], 2, Activation.Tanh, TimeInput.Concat, seed: 0);
        fixture.LoadInto(network.Parameters);
        var field = new MlpVelocityField<float>(network);
        bool w2 = workload == "W2";
        var cnf = new Cnf<float>(field, w2
            ? new CnfOptions { StartTime = 10, EndTime = 0, Base = BaseDistribution.IsotropicGaussian(2, 0.1) }
            : new CnfOptions { EndTime = 0.5, TrainingDivergence = new HutchinsonDivergence(ProbeNoise.Rademacher) });
        ISensitivity sensitivity = mode == "backprop" ? new Backprop() : new Adjoint { TorchdiffeqCompatible = true };
        var x = fixture.Array<float>("x_batch");
        var probes = w2 ? [] : fixture.Array<float>("e_rademacher");
        var tape = new Tape<float>();

        (double Loss, long NfeF, long NfeB) Once()
        {
            tape.Reset();
            network.Parameters.ZeroGradients();
            var pass = w2 ? cnf.Forward(tape, x, noiseSeed: 0, sensitivity, Divergence.Exact) : cnf.Forward(tape, x, probes, sensitivity);
            tape.Backward(pass.NegativeLogLikelihood);
            return (pass.NegativeLogLikelihood.Value[0], pass.ForwardEvaluations, pass.BackwardEvaluations);
        }

        var first = Once();
        double norm = Math.Sqrt(network.Parameters.Gradients.ToArray().Sum(g => (double)g * g));
        var seconds = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            Once();
            seconds.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        var timing = Timing.Of(seconds);
        return new PeerResult
        {
            Workload = workload, Mode = $"{mode} fixed-work", Unit = "fwd+bwd", Seconds = timing, NfeF = first.NfeF, NfeB = first.NfeB,
            FixedWork = new FixedWork(first.Loss, norm, first.NfeF, first.NfeB, timing), PeerSeconds = peer,
        };
    }
}
