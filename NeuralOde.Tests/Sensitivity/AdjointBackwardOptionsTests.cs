using NeuralOde.Core;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>What the adjoint's backward solve takes from the forward's options, and when it rebuilds them.</summary>
public class AdjointBackwardOptionsTests
{
    // z' = θz on two components: loose scalar tolerances, tight per-component ones (which are what the forward uses).
    private static readonly SolveOptions PerComponent = new()
    {
        RelativeTolerance = 1e-2,
        AbsoluteTolerance = 1e-2,
        RelativeTolerances = [1e-10, 1e-10],
        AbsoluteTolerances = [1e-12, 1e-12],
    };

    [Test]
    public void PerComponentTolerances_ReachTheBackwardSolve_SoTheGradientIsAsAccurateAsTheForward()
    {
        const double theta = 0.7, t1 = 1.5;
        double[] z0 = [1.3, -0.4];
        var run = AdjointRun<double>.Run(new Adjoint(), new ScalarGrowth(theta, dimension: 2), z0, SaveAt.End(0, t1), PerComponent, output => [1.0, 1.0]);

        // L = Σ z_i(T) = Σ z0_i·e^{θT}: dL/dθ = T·Σ z_i(T). With the scalar 1e-2 tolerances (dropped per-component ones)
        // the backward's dL/dθ is off by 2.6e-3 relative.
        double sum = (z0[0] + z0[1]) * Math.Exp(theta * t1);
        Assert.That(run.Output[0] + run.Output[1], Is.EqualTo(sum).Within(1e-7).Percent, "the forward uses the per-component tolerances");
        Assert.That(run.GradTheta[0], Is.EqualTo(t1 * sum).Within(1e-6).Percent, "dL/dθ");
        Assert.That(run.GradY0[0], Is.EqualTo(Math.Exp(theta * t1)).Within(1e-6).Percent, "dL/dz0");
    }

    [Test]
    public void PerComponentTolerances_MapToZAndAByComponent_AndTheScalarOneToTheParameterAdjoint()
    {
        var f = new ScalarGrowth(0.7, dimension: 2);
        var gradient = new AdjointGradient<double>(new Adjoint());
        gradient.Forward(f, [1.0, 2.0], SaveAt.End(0, 1), PerComponent with { RelativeTolerances = [1e-9, 1e-8] }, new double[2]);
        var backward = gradient.BackwardOptions!;
        Assert.That(backward.RelativeTolerances, Is.EqualTo(new[] { 1e-9, 1e-8, 1e-9, 1e-8, 1e-2, 1e-2 }), "[z, a, a_θ] with θ of 2 parameters");
        Assert.That(backward.AbsoluteTolerances, Is.EqualTo(new[] { 1e-12, 1e-12, 1e-12, 1e-12, 1e-2, 1e-2 }));

        var explicitScalar = new AdjointGradient<double>(new Adjoint { RelativeTolerance = 1e-6 });
        explicitScalar.Forward(f, [1.0, 2.0], SaveAt.End(0, 1), PerComponent, new double[2]);
        Assert.That(explicitScalar.BackwardOptions!.RelativeTolerances, Is.Null, "an explicit adjoint rtol is one rtol for the whole state");
        Assert.That(explicitScalar.BackwardOptions.RelativeTolerance, Is.EqualTo(1e-6));
        Assert.That(explicitScalar.BackwardOptions.AbsoluteTolerances, Has.Count.EqualTo(6), "atol still follows the forward's");
    }

    [Test]
    public void EqualOptionsInANewObject_ReuseTheBackwardSetUp_ChangedOptionsRebuildIt()
    {
        var f = new ScalarGrowth(0.7);
        var gradient = new AdjointGradient<double>(new Adjoint());
        var options = new SolveOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-10 };
        var output = new double[1];
        gradient.Forward(f, [1.0], SaveAt.End(0, 1), options, output);
        var first = gradient.BackwardOptions;

        gradient.Forward(f, [1.0], SaveAt.End(0, 1), options with { }, output);
        Assert.That(gradient.BackwardOptions, Is.SameAs(first), "a `with` copy per iteration must not rebuild the backward integrator");

        gradient.Forward(f, [1.0], SaveAt.End(0, 1), options with { RelativeTolerance = 1e-6 }, output);
        Assert.That(gradient.BackwardOptions, Is.Not.SameAs(first));
        Assert.That(gradient.BackwardOptions!.RelativeTolerance, Is.EqualTo(1e-6));
    }
}
