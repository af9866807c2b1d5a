using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>
/// The peer's fixed-work runs (torchdiffeq 0.2.5 on the same weights and batch): loss, per-parameter gradients and
/// function evaluations from Backprop and Checkpointed equal theirs — a check against an independent implementation.
/// </summary>
public class PeerBackpropFixtureTests
{
    public static IEnumerable<TestCaseData> W4Cases()
    {
        foreach (int n in new[] { 10, 100 })
        {
            foreach (bool f64 in new[] { false, true })
            {
                foreach (string strategy in new[] { "Backprop", "Checkpointed" })
                    yield return new TestCaseData(n, f64, strategy).SetArgDisplayNames($"N{n}", f64 ? "float64" : "float32", strategy);
            }
        }
    }

    [TestCaseSource(nameof(W4Cases))]
    public void W4_LossAndGradientsEqualThePeers(int steps, bool float64, string strategy)
    {
        if (float64) W4<double>(steps, strategy, $"backprop_N{steps}_float64", 1e-10, 1e-10);
        else W4<float>(steps, strategy, $"backprop_N{steps}", 1e-4, 1e-5);
    }

    private static void W4<T>(int steps, string strategy, string mode, double relative, double floor)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var fixture = PeerFixture.Load("w4");
        var expected = fixture.Expected(mode);
        var network = Mlp.Create<T>(2, [64, 64], 2, Activation.Tanh, TimeInput.None, seed: 0);
        PeerModels.LoadWeights(network.Parameters, fixture);
        var f = new MlpDynamics<T>(network, 256);
        ISensitivity sensitivity = strategy == "Backprop" ? new Backprop() : new Checkpointed();
        var options = new SolveOptions { Method = Tableaus.ThreeEighths, StepSize = new FixedStep(1.0 / steps) };

        var tape = new Tape<T>();
        network.Parameters.ZeroGradients();
        var solve = OdeLayer.Solve(tape, f, tape.Constant(fixture.Array<T>("y0"), new Shape(256, 2)), SaveAt.End(0, 1), options, sensitivity);
        var loss = Ops.Sum(Ops.Square(solve.Final));
        tape.Backward(loss);

        double expectedLoss = expected.GetProperty("loss").GetDouble();
        Assert.That(double.CreateTruncating(loss.Value[0]), Is.EqualTo(expectedLoss).Within(relative * expectedLoss));
        Assert.That(solve.ForwardStats.FunctionEvaluations, Is.EqualTo(expected.GetProperty("nfe_f").GetInt64()));
        PeerModels.AssertGradients(network.Parameters, expected, relative, floor);
    }

    public static IEnumerable<TestCaseData> W1Cases()
    {
        foreach (bool f64 in new[] { false, true })
        {
            foreach (string strategy in new[] { "Backprop", "Checkpointed" })
                yield return new TestCaseData(f64, strategy).SetArgDisplayNames(f64 ? "float64" : "float32", strategy);
        }
    }

    [TestCaseSource(nameof(W1Cases))]
    public void W1_LossGradientsAndEvaluationsEqualThePeers(bool float64, string strategy)
    {
        if (float64) W1<double>(strategy, "backprop_float64", 1e-9, 1e-10);
        else W1<float>(strategy, "backprop", 1e-4, 1e-5);
    }

    private static void W1<T>(string strategy, string mode, double relative, double floor)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var fixture = PeerFixture.Load("w1");
        var expected = fixture.Expected(mode);
        var f = SpiralNetwork<T>.FromFixture(fixture, batch: 20);
        double[] times = [.. fixture.Array<float>("batch_t").Select(t => (double)t)];
        ISensitivity sensitivity = strategy == "Backprop" ? new Backprop() : new Checkpointed();

        var tape = new Tape<T>();
        f.Parameters.ZeroGradients();
        var solve = OdeLayer.Solve(tape, f, tape.Constant(fixture.Array<T>("batch_y0"), new Shape(20, 2)), SaveAt.Times(times), SolveOptions.Torchdiffeq(1e-7, 1e-9), sensitivity);
        var target = tape.Constant(fixture.Array<T>("batch_y"), solve.States.Shape);
        var loss = Ops.MeanAbsoluteError(solve.States, target);
        tape.Backward(loss);

        double expectedLoss = expected.GetProperty("loss").GetDouble();
        Assert.That(solve.ForwardStats.FunctionEvaluations, Is.EqualTo(expected.GetProperty("nfe_f").GetInt64()));
        Assert.That(double.CreateTruncating(loss.Value[0]), Is.EqualTo(expectedLoss).Within(relative * expectedLoss));
        PeerModels.AssertGradients(f.Parameters, expected, relative, floor);
    }
}
