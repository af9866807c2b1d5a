using System.Text.Json;
using NeuralOde.AutoDiff;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>The interpolating adjoint: z read from the forward's continuous solution, so stiff problems get gradients.</summary>
public class InterpolatingAdjointTests
{
    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    public void RobertsonRateSensitivities_WithRodas5P_MatchThePublishedValues(int component)
    {
        // L = y_i(40): dL/d ln k is row i of the published log-sensitivities, spanning 6 orders of magnitude.
        var f = new RobertsonLogRates();
        var tape = new Tape<double>();
        var y0 = tape.Constant([1.0, 0, 0], new Shape(1, 3));
        var options = new SolveOptions { Stepper = new Rosenbrock(RosenbrockTableaus.Rodas5P), RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-14, MaxSteps = 100_000 };
        var solve = OdeLayer.Solve(tape, f, y0, SaveAt.End(0, 40), options, new Adjoint { Interpolating = true });
        double[] pick = [0, 0, 0];
        pick[component] = 1;
        tape.Backward(Ops.Sum(Ops.Multiply(solve.States, tape.Constant(pick, new Shape(1, 3)))));
        double[] gradient = f.Parameters.Gradients.ToArray();
        double[] published = RobertsonLogRates.PublishedLogSensitivities()[component];
        TestContext.Out.WriteLine($"y{component + 1}(40): dL/dln k = {string.Join(", ", gradient.Select(v => v.ToString("G8")))} vs {string.Join(", ", published.Select(v => v.ToString("G8")))}; backward {solve.BackwardEvaluations} VJPs");
        for (int j = 0; j < 3; j++) Assert.That(gradient[j], Is.EqualTo(published[j]).Within(1e-5 * published.Max(Math.Abs)), $"∂y{component + 1}/∂ln k{j + 1}");
    }

    [Test]
    public void RecomputingZBackwards_BlowsUpOnRobertson_WhereInterpolatingDoesNot()
    {
        // The reason the interpolating adjoint exists: integrated backwards, Robertson's fast decaying mode grows.
        var f = new RobertsonLogRates();
        var options = new SolveOptions { Stepper = new Rosenbrock(RosenbrockTableaus.Rodas5P), RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-12, MaxSteps = 20_000 };
        double[] Gradient(Adjoint adjoint)
        {
            var tape = new Tape<double>();
            var solve = OdeLayer.Solve(tape, f, tape.Constant([1.0, 0, 0], new Shape(1, 3)), SaveAt.End(0, 40), options, adjoint);
            // L = y1(40): its gradient is of order 0.1 (the published row), far from round-off.
            tape.Backward(Ops.Sum(Ops.Multiply(solve.States, tape.Constant([1.0, 0, 0], new Shape(1, 3)))));
            return f.Parameters.Gradients.ToArray();
        }
        double[] interpolating = Gradient(new Adjoint { Interpolating = true });
        Assert.That(interpolating.All(double.IsFinite), Is.True);
        double[]? recomputed = null;
        Exception? failure = null;
        try { recomputed = Gradient(new Adjoint()); }
        catch (Exception e) when (e is OdeSolverException or NonFiniteGradientException) { failure = e; }
        TestContext.Out.WriteLine(failure?.Message ?? $"recomputed: {string.Join(", ", recomputed!.Select(v => v.ToString("G4")))} vs interpolating {string.Join(", ", interpolating.Select(v => v.ToString("G4")))}");
        Assert.That(failure is not null || GradientCheck.MaxRelativeToLargest(recomputed!, interpolating) > 1e-2, Is.True, "recomputing z backwards should fail here; if it no longer does, the documentation must change");
    }

    [Test]
    public void OnMildDynamics_ItAgreesWithTheRecomputingAdjointAndBackprop()
    {
        var tight = new SolveOptions { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-12 };
        var interpolating = StiffStepperChecks.MildLinearGradients(tight, new Adjoint { Interpolating = true });
        var recomputing = StiffStepperChecks.MildLinearGradients(tight, new Adjoint());
        var backprop = StiffStepperChecks.MildLinearGradients(tight, new Backprop());
        Assert.That(GradientCheck.MaxRelativeToLargest(interpolating.GradTheta, backprop.GradTheta), Is.LessThan(1e-6));
        Assert.That(GradientCheck.MaxRelativeToLargest(interpolating.GradY0, backprop.GradY0), Is.LessThan(1e-6));
        Assert.That(GradientCheck.MaxRelativeToLargest(interpolating.GradTheta, recomputing.GradTheta), Is.LessThan(1e-6));
    }
}
