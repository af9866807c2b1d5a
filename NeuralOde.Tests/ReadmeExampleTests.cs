using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.AutoDiff.Optim;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Tests;

/// <summary>The README's code, as written there (fewer iterations): the user-defined ODE and the 20-line neural ODE.</summary>
public class ReadmeExampleTests
{
    [Test]
    public void ReadmeUserDefinedOde_MatchesTheClosedFormAndGivesTheExactGradient()
    {
        double k = 0.3, ambient = 20;
        var cooling = Ode.Solve((t, y, dy) => dy[0] = -k * (y[0] - ambient), [90.0], SaveAt.Times(0, 5, 10));
        Assert.That(cooling.States[^1][0], Is.EqualTo(ambient + 70 * Math.Exp(-k * 10)).Within(1e-4));
        var rk4 = Ode.Solve((t, y, dy) => dy[0] = -k * (y[0] - ambient), [90.0], SaveAt.End(0, 10),
            new SolveOptions { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(0.1) });
        Assert.That(rk4.Stats.AcceptedSteps, Is.EqualTo(100));
        Assert.That(rk4.States[^1][0], Is.EqualTo(ambient + 70 * Math.Exp(-k * 10)).Within(1e-6));

        var parameters = new ParameterSet<double>(); var rate = parameters.Add("k", Shape.Scalar); rate.Value[0] = k;
        var f = new TapeFunctionDynamics<double>(parameters, Shape.Scalar,
            (tape, t, y) => Ops.Negate(Ops.Multiply(tape.Parameter(rate), Ops.AddScalar(y, -ambient))));
        var tape = new Tape<double>();
        var solve = OdeLayer.Solve(tape, f, tape.Constant([90.0], Shape.Scalar), SaveAt.End(0, 10), sensitivity: new Adjoint());
        tape.Backward(Ops.Sum(Ops.Square(solve.Final)));
        double yT = ambient + 70 * Math.Exp(-k * 10), exact = 2 * yT * -70 * 10 * Math.Exp(-k * 10);
        Assert.That(rate.Gradient[0], Is.EqualTo(exact).Within(1e-3 * Math.Abs(exact)));
    }

    [Test]
    public void ReadmeApiExample_RunsAndTrains()
    {
        var f = new MlpDynamics<float>(Mlp.Create<float>(2, [64, 64], 2, Activation.Tanh, TimeInput.Concat, seed: 0), batchSize: 16);
        var y0 = new float[16 * 2]; var target = new float[16 * 2];
        for (int i = 0; i < y0.Length; i++) { y0[i] = MathF.Sin(i); target[i] = 0.5f * MathF.Cos(i); }
        var options = new SolveOptions { Method = Tableaus.DormandPrince54, RelativeTolerance = 1e-5, AbsoluteTolerance = 1e-5 };

        var solution = Ode.Solve(f, y0, SaveAt.Times(0.0, 0.5, 1.0), options);
        Assert.That(solution.Stats.FunctionEvaluations, Is.GreaterThan(0));
        Assert.That(solution.States[^1].Length, Is.EqualTo(32));

        var tape = new Tape<float>(); var adam = new Adam<float>(f.Parameters, learningRate: 1e-3);
        ISensitivity sensitivity = new Adjoint();
        var losses = new List<float>();
        for (int step = 0; step < 20; step++)
        {
            tape.Reset(); adam.ZeroGradients();
            var solve = OdeLayer.Solve(tape, f, tape.Constant(y0, new Shape(16, 2)), SaveAt.End(0, 1), options, sensitivity);
            var loss = Ops.MeanSquaredError(solve.Final, tape.Constant(target, new Shape(16, 2)));
            tape.Backward(loss); adam.Step();
            losses.Add(loss.Value[0]);
        }
        Assert.That(losses[^1], Is.LessThan(losses[0]));

        string path = Path.Combine(Path.GetTempPath(), $"neuralode-readme-{Environment.ProcessId}.json");
        try
        {
            f.Parameters.Save(path);
            var copy = Mlp.Create<float>(2, [64, 64], 2, Activation.Tanh, TimeInput.Concat, seed: 1);
            copy.Parameters.Load(path);
            Assert.That(copy.Parameters.Values.ToArray(), Is.EqualTo(f.Parameters.Values.ToArray()));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
