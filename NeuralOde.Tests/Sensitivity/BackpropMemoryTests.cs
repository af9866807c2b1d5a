using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>What Backprop keeps per step, against the formula the README states.</summary>
public class BackpropMemoryTests
{
    private static long RecordedBytes(int steps)
    {
        // W4's network and batch: 2 → 64 → 64 → 2, tanh, B = 256, float, the 3/8-rule RK4.
        var network = Mlp.Create<float>(2, [64, 64], 2, Activation.Tanh, TimeInput.None, seed: 0);
        var f = new MlpDynamics<float>(network, 256);
        var gradient = new BackpropGradient<float>(f.StateShape);
        var y0 = Enumerable.Range(0, 512).Select(i => MathF.Sin(i)).ToArray();
        gradient.Forward(f, y0, SaveAt.End(0, 1), new SolveOptions { Method = Tableaus.ThreeEighths, StepSize = new FixedStep(1.0 / steps) }, new float[512]);
        return gradient.RecordedBytes;
    }

    [Test]
    public void RecordedBytesPerStep_AreStagesTimesBatchTimesTheLayerWidths()
    {
        // Per stage the tape keeps the stage's input state and each layer's output: B·(2 + 64 + 64 + 2) floats; a step
        // has s = 4 stages: 4 · 256 · 132 · 4 B = 540,672 B = 0.516 MiB (measured peak RSS growth in W4: 0.522 MiB).
        long perStep = (RecordedBytes(20) - RecordedBytes(10)) / 10;
        TestContext.Out.WriteLine($"recorded bytes per step: {perStep}");
        Assert.That(perStep, Is.EqualTo(4L * 256 * (2 + 64 + 64 + 2) * sizeof(float)));
    }

    [Test]
    public void RecordedBytesPerStep_OfALongRecording_LeaveOutTheFirstHiddenLayer()
    {
        // Past Mlp's threshold (16 MiB, about 31 steps here) the first hidden layer is recomputed in the reverse sweep,
        // not kept: B·(2 + 64 + 2) floats a stage, 4 · 256 · 68 · 4 B = 278,528 B a step.
        long perStep = (RecordedBytes(200) - RecordedBytes(100)) / 100;
        TestContext.Out.WriteLine($"recorded bytes per step: {perStep}");
        Assert.That(perStep, Is.EqualTo(4L * 256 * (2 + 64 + 2) * sizeof(float)));
    }
}
