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
/// tanh) and λ = 1000 (eigenvalue spread 1000 around the learned part), one training iteration (forward with the method named, the
/// interpolating adjoint's backward with Dormand–Prince, Adam) on [0, 1] for batches 64 … 1024, Dormand–Prince against Rodas5P (block-diagonal Jacobian by
/// differences, and the exact one from the tape): median seconds per iteration, NFE forward/backward, and bytes
/// allocated by a warm iteration.
/// </summary>
internal static class StiffNeuralOde
{
    private const double Lambda = 1000;

    private sealed class StiffField(Mlp<double> network, int batch, Parameter<double> decay) : TapeDynamics<double>(network.Parameters, new Shape(batch, 2))
    {
        public override int IndependentRows => StateShape.Rows;

        public override Var<double> Record(Tape<double> tape, double t, Var<double> y) =>
            Ops.Add(network.Forward(tape, y, t), Ops.MultiplyRow(y, tape.Constant(decay.Value.ToArray(), new Shape(1, 2))));
    }

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        int repeats = quick ? 3 : 10;
        Console.WriteLine($"# Stiff neural ODE, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores: f = MLP(y) + y·diag(−1, −{Lambda}), rtol 1e-5, atol 1e-7, t in [0, 1]");
        Console.WriteLine("| batch | method | median s / iteration | NFE-F | NFE-B | Jacobians | bytes per warm iteration |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (int batch in new[] { 64, 256, 1024 })
        {
            foreach (string method in new[] { "Dormand–Prince 5(4)", "Rodas5P", "Rodas5P, exact Jacobian" })
            {
                var network = Mlp.Create<double>(2, [64, 64], 2, Activation.Tanh, TimeInput.None, 0);
                var constants = new ParameterSet<double>();
                var decay = constants.Add("decay", new Shape(1, 2));
                decay.Value[0] = -1;
                decay.Value[1] = -Lambda;
                IDifferentiableDynamics<double> f = new StiffField(network, batch, decay);
                if (method.EndsWith("exact Jacobian", StringComparison.Ordinal)) f = new ExactJacobian<double>(f);
                var options = new SolveOptions
                {
                    Stepper = method.StartsWith("Rodas", StringComparison.Ordinal) ? new Rosenbrock(RosenbrockTableaus.Rodas5P) : null,
                    RelativeTolerance = 1e-5,
                    AbsoluteTolerance = 1e-7,
                    MaxSteps = 1_000_000,
                };
                var random = new Random(1);
                double[] y0 = [.. Enumerable.Range(0, batch * 2).Select(_ => random.NextDouble() * 2 - 1)];
                var adam = new Adam<double>(network.Parameters, 1e-3);
                var tape = new Tape<double>();
                // The backward solve stays explicit: a stiff method there would difference the whole [a, a_θ] system
                // (n + p = 2·batch + 4482 unknowns, not row-independent), which is not affordable.
                var adjoint = new Adjoint { Interpolating = true, Method = Tableaus.DormandPrince54 };
                (long Forward, long Backward, long Jacobians) Iteration()
                {
                    tape.Reset();
                    adam.ZeroGradients();
                    var solve = OdeLayer.Solve(tape, f, tape.Constant(y0, new Shape(batch, 2)), SaveAt.End(0, 1), options, adjoint);
                    tape.Backward(Ops.Mean(Ops.Square(solve.States)));
                    adam.Step();
                    return (solve.ForwardStats.FunctionEvaluations, solve.BackwardEvaluations, solve.ForwardStats.JacobianEvaluations);
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
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {batch} | {method} | {seconds[repeats / 2]:G3} | {counts.Forward} | {counts.Backward} | {counts.Jacobians} | {bytes} |"));
            }
        }
        return 0;
    }
}
