using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Flows;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Tests.Flows;

/// <summary>The CNF loss's gradient agrees across sensitivities, with finite differences, and reaches a learnable T.</summary>
public class CnfGradientTests
{
    private const int Seed = 21;

    private static (Cnf<double> Cnf, MlpVelocityField<double> Field) Flow(CnfOptions options, int blocks = 1)
    {
        var set = new ParameterSet<double>();
        var random = new Random(Seed);
        var fields = Enumerable.Range(0, blocks)
            .Select(i => (IVelocityField<double>)new MlpVelocityField<double>(new Mlp<double>(set, 2, [12, 12], 2, Activation.Tanh, TimeInput.ConcatSquash, random, $"blocks.{i}")))
            .ToArray();
        return (new Cnf<double>(fields, options), (MlpVelocityField<double>)fields[0]);
    }

    private static double[] Batch() => Core.Data.Toy2D.Sample<double>(Core.Data.Toy2DSet.Moons, 6, seed: 2);

    private static double[] Gradient(Cnf<double> cnf, ISensitivity sensitivity, double[] x, out double loss)
    {
        var tape = new Tape<double>();
        cnf.Parameters.ZeroGradients();
        var pass = cnf.Forward(tape, x, noiseSeed: 9, sensitivity);
        tape.Backward(pass.Loss);
        loss = pass.Loss.Value[0];
        return cnf.Parameters.Gradients.ToArray();
    }

    private static double Loss(Cnf<double> cnf, double[] x)
    {
        var tape = new Tape<double>();
        return cnf.Forward(tape, x, noiseSeed: 9).Loss.Value[0];
    }

    [TestCase(false)]
    [TestCase(true)]
    public void BackpropAndCheckpointed_AgreeToRoundOff_TwoBlocksWithRegularisers(bool hutchinson)
    {
        var options = new CnfOptions
        {
            Regularization = new CnfRegularization(0.1, 0.05),
            TrainingDivergence = hutchinson ? new HutchinsonDivergence(ProbeNoise.Gaussian, probes: 2) : Divergence.Exact,
            Solver = SolveOptions.Torchdiffeq(1e-7, 1e-7),
        };
        var (cnf, _) = Flow(options, blocks: 2);
        var x = Batch();
        var backprop = Gradient(cnf, new Backprop(), x, out double l1);
        var checkpointed = Gradient(cnf, new Checkpointed(), x, out double l2);
        Assert.That(l2, Is.EqualTo(l1));
        double scale = backprop.Max(Math.Abs);
        for (int i = 0; i < backprop.Length; i++) Assert.That(checkpointed[i], Is.EqualTo(backprop[i]).Within(1e-12 * scale), $"θ[{i}]");
    }

    [Test]
    public void Backprop_FixedSteps_MatchesFiniteDifferencesOfTheLoss()
    {
        // With fixed steps the discrete solve is a smooth function of θ, so its exact gradient matches central differences.
        var options = new CnfOptions
        {
            Regularization = new CnfRegularization(0.2, 0.1),
            Solver = new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(0.05) },
        };
        var (cnf, _) = Flow(options);
        var x = Batch();
        var grad = Gradient(cnf, new Backprop(), x, out _);
        var values = cnf.Parameters.Values;
        for (int i = 0; i < values.Length; i += 13)
        {
            double saved = values[i];
            values[i] = saved + 1e-6;
            double up = Loss(cnf, x);
            values[i] = saved - 1e-6;
            double down = Loss(cnf, x);
            values[i] = saved;
            double fd = (up - down) / 2e-6;
            Assert.That(grad[i], Is.EqualTo(fd).Within(1e-6 * (1 + Math.Abs(fd))), $"θ[{i}]");
        }
    }

    [Test]
    public void LearnableEndTime_ReceivesTheGradientOfTheLoss()
    {
        var options = new CnfOptions { EndTime = 0.5, LearnEndTime = true, Solver = SolveOptions.Torchdiffeq(1e-10, 1e-10) };
        var (cnf, _) = Flow(options);
        var logT = cnf.Parameters["cnf.log_end_time"];
        Assert.That(cnf.Duration(), Is.EqualTo(0.5).Within(1e-15));
        var x = Batch();
        _ = Gradient(cnf, new Backprop(), x, out _);
        double g = logT.Gradient[0];
        double saved = logT.Value[0];
        logT.Value[0] = saved + 1e-5;
        double up = Loss(cnf, x);
        logT.Value[0] = saved - 1e-5;
        double down = Loss(cnf, x);
        logT.Value[0] = saved;
        double fd = (up - down) / 2e-5;
        TestContext.Out.WriteLine($"dL/dlogT: tape {g:E6}, finite differences {fd:E6}");
        Assert.That(g, Is.Not.EqualTo(0.0));
        Assert.That(g, Is.EqualTo(fd).Within(1e-5 * (1 + Math.Abs(fd))));
    }
}
