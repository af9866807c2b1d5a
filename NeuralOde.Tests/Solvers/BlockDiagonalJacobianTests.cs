using NeuralOde.AutoDiff;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Solvers;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Solvers;

/// <summary>Row-independent dynamics get a block-diagonal Jacobian and B small factorisations: same solution as the dense path, D + 1 evaluations per Jacobian instead of B·D + 1.</summary>
public class BlockDiagonalJacobianTests
{
    /// <summary>B copies of Robertson's kinetics, row r with k1 = 0.04·(1 + r/B), declared row-independent.</summary>
    private sealed class RobertsonRows(int rows) : IDifferentiableDynamics<double>
    {
        public int Dimension => 3 * rows;

        public int IndependentRows => rows;

        public ParameterSet<double> Parameters { get; } = new();

        public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> dydt)
        {
            for (int r = 0; r < rows; r++)
            {
                double k1 = 0.04 * (1 + (double)r / rows);
                int o = 3 * r;
                dydt[o] = -k1 * y[o] + 1e4 * y[o + 1] * y[o + 2];
                dydt[o + 2] = 3e7 * y[o + 1] * y[o + 1];
                dydt[o + 1] = -dydt[o] - dydt[o + 2];
            }
        }

        public void Vjp(double t, ReadOnlySpan<double> y, ReadOnlySpan<double> cotangent, Span<double> gradY, Span<double> gradTheta) =>
            throw new NotSupportedException("not differentiated in these tests");

        public Var<double> Record(Tape<double> tape, double t, Var<double> y) => throw new NotSupportedException("not recorded in these tests");
    }

    /// <summary>The same function without the row declaration: the dense path.</summary>
    private sealed class Dense(IDynamics<double> inner) : IDynamics<double>
    {
        public int Dimension => inner.Dimension;

        public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> dydt) => inner.Evaluate(t, y, dydt);
    }

    public static readonly IStepperFactory[] Methods = [new Rosenbrock(RosenbrockTableaus.Rodas5P), new Esdirk(EsdirkTableaus.Kvaerno5), new Rosenbrock23()];

    [TestCaseSource(nameof(Methods))]
    public void BlockPath_GivesTheDenseSolution_WithDPlusOneEvaluationsPerJacobian(IStepperFactory method)
    {
        const int rows = 16;
        var f = new RobertsonRows(rows);
        double[] y0 = [.. Enumerable.Range(0, rows).SelectMany(_ => new[] { 1.0, 0, 0 })];
        var options = new SolveOptions { Stepper = method, RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-10, MaxSteps = 100_000 };
        var blocked = Ode.Solve(f, y0, SaveAt.End(0, 40), options);
        var dense = Ode.Solve(new Dense(f), y0, SaveAt.End(0, 40), options);
        double worst = 0;
        for (int i = 0; i < y0.Length; i++) worst = Math.Max(worst, Math.Abs(blocked.States[^1][i] - dense.States[^1][i]));
        TestContext.Out.WriteLine($"{method}: blocked {blocked.Stats.FunctionEvaluations} evaluations / {blocked.Stats.AcceptedSteps} steps, dense {dense.Stats.FunctionEvaluations} / {dense.Stats.AcceptedSteps}; max difference {worst:G3}");
        // Each row's block is found from the same differences as in the dense matrix, and pivoting never leaves a
        // block: the two paths agree to the last bit (measured: difference 0 for all three methods).
        Assert.That(blocked.States[^1].ToArray(), Is.EqualTo(dense.States[^1].ToArray()));
        Assert.That(blocked.Stats.AcceptedSteps, Is.EqualTo(dense.Stats.AcceptedSteps));
        long perJacobianSaved = (3 * rows + 1) - (3 + 1);
        Assert.That(dense.Stats.FunctionEvaluations - blocked.Stats.FunctionEvaluations, Is.EqualTo(perJacobianSaved * blocked.Stats.JacobianEvaluations));
    }

    [Test]
    public void EveryRow_MatchesItsOwnSolve()
    {
        // Row r of the batch is Robertson with its own k1: solved alone (one row) it gives the same answer to tolerance.
        const int rows = 8;
        var f = new RobertsonRows(rows);
        double[] y0 = [.. Enumerable.Range(0, rows).SelectMany(_ => new[] { 1.0, 0, 0 })];
        var options = new SolveOptions { Stepper = new Rosenbrock(RosenbrockTableaus.Rodas5P), RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-12 };
        var batch = Ode.Solve(f, y0, SaveAt.End(0, 40), options).States[^1].ToArray();
        for (int r = 0; r < rows; r++)
        {
            double k1 = 0.04 * (1 + (double)r / rows);
            var single = new FuncDynamics<double>(3, (t, y, d) =>
            {
                d[0] = -k1 * y[0] + 1e4 * y[1] * y[2];
                d[2] = 3e7 * y[1] * y[1];
                d[1] = -d[0] - d[2];
            });
            var alone = Ode.Solve(single, [1.0, 0, 0], SaveAt.End(0, 40), options).States[^1].ToArray();
            for (int i = 0; i < 3; i++) Assert.That(batch[3 * r + i], Is.EqualTo(alone[i]).Within(1e-6 * Math.Abs(alone[i]) + 1e-10), $"row {r}, component {i}");
        }
    }
}
