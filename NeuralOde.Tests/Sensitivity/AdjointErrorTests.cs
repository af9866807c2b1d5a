using NeuralOde.Core;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>The adjoint's failures are typed and immediate: bad cotangents are argument errors, an exhausted backward solve a solver error.</summary>
public class AdjointErrorTests
{
    [Test]
    public void Backward_ThrowsArgumentExceptionNamingANaNCotangent()
    {
        var gradient = new AdjointGradient<double>(new Adjoint());
        var f = new ScalarGrowth(0.5);
        var output = new double[2];
        gradient.Forward(f, [1.0], SaveAt.Times(0, 1), new SolveOptions(), output);
        var ex = Assert.Throws<ArgumentException>(() => gradient.Backward([0.0, double.NaN], new double[1], new double[f.Parameters.Length], new double[2]));
        Assert.That(ex!.ParamName, Is.EqualTo("outputCotangent"));
        Assert.That(ex.Message, Does.Contain("outputCotangent[1]").And.Contain("NaN"));
    }

    [Test]
    public void Backward_ThrowsOdeSolverExceptionWhenTheAdjointExhaustsMaxSteps()
    {
        var f = new ScalarGrowth(0.5);
        var options = new SolveOptions { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-12 };
        var ex = Assert.Throws<OdeSolverException>(() =>
            AdjointRun<double>.Run(new Adjoint { MaxSteps = 3 }, f, [1.0], SaveAt.End(0, 10), options, output => [1.0]));
        Assert.That(ex!.Reason, Is.EqualTo(SolveFailure.MaxStepsReached));
    }

    [Test]
    public void Backward_BeforeForward_Throws()
    {
        var gradient = new AdjointGradient<double>(new Adjoint());
        Assert.Throws<InvalidOperationException>(() => gradient.Backward([1.0], new double[1], new double[1], new double[2]));
    }
}
