using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NUnit.Framework;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>The backward solve's options: the adjoint's settings over the forward's, and the block structure of its norm.</summary>
public class AdjointOptionsTests
{
    private static readonly ParameterSet<double> TwoLayers = Mlp.Create<double>(2, [4], 2, Activation.Tanh, TimeInput.None, seed: 1).Parameters;

    [Test]
    public void TorchdiffeqCompatible_KeepsTheForwardBlocksAsSubBlocksAndOneBlockPerParameterTensor()
    {
        // A CNF-like forward state of 6 elements: z (4) and log p (2).
        SolveOptions forward = SolveOptions.Torchdiffeq(1e-5, 1e-6, new StateBlock("z", 0, 4), new StateBlock("logp", 4, 2));
        SolveOptions backward = AdjointGradient<double>.BuildBackwardOptions(new Adjoint { TorchdiffeqCompatible = true }, forward, 6, TwoLayers);
        Assert.That(backward.Norm.Blocks.Select(b => (b.Name, b.Start, b.Length)), Is.EqualTo(new[]
        {
            ("z.z", 0, 4), ("z.logp", 4, 2), ("a.z", 6, 4), ("a.logp", 10, 2),
            ("a_theta.net.0.weight", 12, 8), ("a_theta.net.0.bias", 20, 4), ("a_theta.net.2.weight", 24, 8), ("a_theta.net.2.bias", 32, 2),
        }));
        Assert.That(backward.StepPastEnd, Is.True);
        Assert.That(backward.TorchdiffeqStageTimes, Is.True);
        Assert.That(backward.StepSize, Is.SameAs(PiController.Torchdiffeq));
        Assert.That((backward.RelativeTolerance, backward.AbsoluteTolerance), Is.EqualTo((1e-5, 1e-6)));
    }

    [Test]
    public void Seminorm_LeavesTheParameterAdjointOutOfErrorControl()
    {
        SolveOptions backward = AdjointGradient<double>.BuildBackwardOptions(new Adjoint { Seminorm = true }, new SolveOptions(), 3, TwoLayers);
        Assert.That(backward.Norm.Blocks.Select(b => b.Name), Is.EqualTo(new[] { "z", "a" }));
    }

    [Test]
    public void AdjointSettings_OverrideTheForwards()
    {
        var adjoint = new Adjoint { Method = Tableaus.Tsitouras54, RelativeTolerance = 1e-4, AbsoluteTolerance = 1e-7, MaxSteps = 17 };
        SolveOptions backward = AdjointGradient<double>.BuildBackwardOptions(adjoint, new SolveOptions(), 3, TwoLayers);
        Assert.That(backward.Method, Is.SameAs(Tableaus.Tsitouras54));
        Assert.That((backward.RelativeTolerance, backward.AbsoluteTolerance, backward.MaxSteps), Is.EqualTo((1e-4, 1e-7, 17)));
        Assert.That(backward.Norm.Blocks.Select(b => b.Name), Is.EqualTo(new[] { "z", "a", "a_theta" }));
        Assert.That(backward.StepPastEnd, Is.False);
    }
}
