using System.Diagnostics;
using System.Globalization;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.AutoDiff.Optim;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;

namespace NeuralOde.Benchmarks.Stiff;

/// <summary>
/// <c>stiff-nn [--quick]</c>: a stiff neural ODE, f(y) = MLP(y) + y·diag(−1, −λ) with the W4 network (2 → 64 → 64 → 2
/// tanh) and λ = 1000 (eigenvalue spread 1000 around the learned part), one training iteration (forward with the method
/// named; backward by the interpolating adjoint with Dormand–Prince or with Rodas5P, or by Backprop through the forward's steps; Adam) on
/// [0, 1] for batches 64 … 1024, Dormand–Prince against Rodas5P (block-diagonal Jacobian by differences, and the exact
/// one from the tape): median seconds per iteration, NFE forward/backward (VJPs for Backprop), and bytes allocated by a
/// warm iteration.
/// </summary>
internal static class StiffNeuralOde
{
    private const double Lambda = 1000;

    private sealed class StiffField(Mlp<double> network, int batch, double[] decay) : TapeDynamics<double>(network.Parameters, new Shape(batch, 2))
    {
        public override int IndependentRows => StateShape.Rows;

        // The network has no time input and the decay none either: Rosenbrock steps skip their difference in t.
        public override bool IsAutonomous => true;

        public override Var<double> Record(Tape<double> tape, double t, Var<double> y) =>
            Ops.Add(network.Forward(tape, y, t), Ops.MultiplyRow(y, tape.Constant(decay, new Shape(1, 2))));
    }

    /// <summary>One row of the table: the forward's method and Jacobian, and the gradient strategy.</summary>
    private readonly record struct Case(string Label, bool Rodas, bool ExactJacobian, bool Backprop, bool StiffBackward = false);

    private static readonly Case[] Cases =
    [
        new("Dormand–Prince 5(4), adjoint", false, false, false),
        new("Rodas5P, adjoint", true, false, false),
        new("Rodas5P, exact Jacobian, adjoint", true, true, false),
        new("Rodas5P, exact Jacobian, adjoint with Rodas5P backward", true, true, false, true),
        new("Dormand–Prince 5(4), Backprop", false, false, true),
        new("Rodas5P, exact Jacobian, Backprop", true, true, true),
    ];

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        int repeats = quick ? 3 : 10;
        Console.WriteLine($"# Stiff neural ODE, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores: f = MLP(y) + y·diag(−1, −{Lambda}), rtol 1e-5, atol 1e-7, t in [0, 1]");
        Console.WriteLine("| batch | method | median s / iteration | NFE-F | NFE-B | VJPs backward | Jacobians | bytes per warm iteration |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (int batch in new[] { 64, 256, 1024 })
        {
            foreach (var method in Cases)
            {
                var network = Mlp.Create<double>(2, [64, 64], 2, Activation.Tanh, TimeInput.None, 0);
                IDifferentiableDynamics<double> f = new StiffField(network, batch, [-1, -Lambda]);
                if (method.ExactJacobian) f = new ExactJacobian<double>(f);
                var options = new SolveOptions
                {
                    Stepper = method.Rodas ? new Rosenbrock(RosenbrockTableaus.Rodas5P) : null,
                    RelativeTolerance = 1e-5,
                    AbsoluteTolerance = 1e-7,
                    MaxSteps = 1_000_000,
                };
                var random = new Random(1);
                double[] y0 = [.. Enumerable.Range(0, batch * 2).Select(_ => random.NextDouble() * 2 - 1)];
                var adam = new Adam<double>(network.Parameters, 1e-3);
                var tape = new Tape<double>();
                // The adjoint's backward solve is Dormand–Prince, or the forward's Rodas5P, which factors only a's blocks
                // of −∂f/∂zᵀ and couples a_θ (4482 parameters) by one VJP per linear solve. Backprop pulls the cotangent
                // back through the forward's own steps (for Rodas5P: transposed solves with its LUs).
                ISensitivity sensitivity = method.Backprop ? new Backprop()
                    : method.StiffBackward ? new Adjoint { Interpolating = true }
                    : new Adjoint { Interpolating = true, Method = Tableaus.DormandPrince54 };
                var saveAt = SaveAt.End(0, 1);
                (long Forward, long Backward, long Vjps, long Jacobians) Iteration()
                {
                    tape.Reset();
                    adam.ZeroGradients();
                    var solve = OdeLayer.Solve(tape, f, tape.Constant(y0, new Shape(batch, 2)), saveAt, options, sensitivity);
                    tape.Backward(Ops.Mean(Ops.Square(solve.States)));
                    adam.Step();
                    return (solve.ForwardStats.FunctionEvaluations, solve.BackwardEvaluations, solve.BackwardStats?.VectorJacobianProducts ?? 0, solve.ForwardStats.JacobianEvaluations);
                }
                var counts = Iteration();
                Iteration();
                long before = GC.GetAllocatedBytesForCurrentThread();
                Iteration();
                long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
                var seconds = new double[repeats];
                for (int r = 0; r < repeats; r++)
                {
                    long start = Stopwatch.GetTimestamp();
                    counts = Iteration();
                    seconds[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
                }
                Array.Sort(seconds);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {batch} | {method.Label} | {seconds[repeats / 2]:G3} | {counts.Forward} | {counts.Backward} | {counts.Vjps} | {counts.Jacobians} | {bytes} |"));
            }
        }
        return 0;
    }
}
