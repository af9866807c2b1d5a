using System.CommandLine;
using System.Globalization;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Optim;
using NeuralOde.Core;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Examples.App;
using NeuralOde.Examples.Plotting;
using NeuralOde.Examples.Training;

namespace NeuralOde.Examples.Examples;

/// <summary>
/// Robertson's stiff chemical kinetics y1' = −k1 y1 + k3 y2 y3, y2' = k1 y1 − k3 y2 y3 − k2 y2², y3' = k2 y2²: recovers
/// the three rate constants, nine orders of magnitude apart (log-parameterised), from noisy concentrations observed on
/// a log-spaced time grid over [1e-5, 1e5], with Rodas5P forward and the interpolating adjoint backward.
/// </summary>
internal static class RobertsonExample
{
    private static readonly double[] TrueRates = [0.04, 3e7, 1e4];
    private static readonly double[] InitialGuess = [0.1, 1e7, 3e3];
    private const int Observations = 31;
    private const double Noise = 0.02;

    public static Command Command(AppEnvironment environment)
    {
        var common = new CommonOptions("Training iterations (default 150; smoke 3).");
        var command = new Command("robertson", "Recover Robertson's three rate constants (stiff kinetics) from noisy concentrations; plots data and fit on a log time axis.");
        common.AddTo(command);
        command.SetAction(result => ExampleApp.Guard(environment, () => Run(common.Bind(result, environment))));
        return command;
    }

    public static int Run(RunContext context)
    {
        double[] times = [0, .. Enumerable.Range(0, Observations).Select(i => Math.Pow(10, -5 + 10.0 * i / (Observations - 1)))];
        var options = new SolveOptions { Stepper = new Rosenbrock(RosenbrockTableaus.Rodas5P), RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-12, MaxSteps = 100_000 };
        double[] clean = Solve(TrueRates, times, options);
        // 2 % multiplicative noise on every concentration; each species is compared on the scale of its own peak.
        var random = new Random(context.Seed);
        double[] data = [.. clean.Select(v => v * (1 + Noise * LotkaVolterraExample.Gaussian(random)))];
        double[] scale = [.. Enumerable.Range(0, 3).Select(c => Enumerable.Range(1, Observations).Max(k => Math.Abs(data[k * 3 + c])))];
        context.Line(string.Create(CultureInfo.InvariantCulture, $"robertson: {Observations} noisy observations of 3 species on t in [1e-5, 1e5] (log-spaced), true k = {TrueRates[0]:G3}, {TrueRates[1]:G3}, {TrueRates[2]:G3}"));

        var (set, logRates) = RateDynamics.CreateParameters(InitialGuess);
        var model = new Kinetics(set, logRates);
        var adam = new Adam<double>(set, 0.1);
        var tape = new Tape<double>();
        var adjoint = new Adjoint { Interpolating = true };
        double[] weights = [.. Enumerable.Range(0, (Observations + 1) * 3).Select(i => i < 3 ? 0 : 1 / scale[i % 3])];
        double[] target = [.. data.Select((v, i) => v * weights[i])];
        var losses = TrainingLoop.Run(context, "robertson", context.IterationsOr(150, 3), _ =>
        {
            tape.Reset();
            adam.ZeroGradients();
            var solve = OdeLayer.Solve(tape, model, tape.Constant([1.0, 0, 0], new Shape(1, 3)), SaveAt.Times(times), options, adjoint);
            // States are time-major, three per time, as the data.
            var scaled = Ops.Multiply(solve.States, tape.Constant(weights, solve.States.Shape));
            var loss = Ops.MeanSquaredError(scaled, tape.Constant(target, scaled.Shape));
            tape.Backward(loss);
            adam.Step();
            return new IterationReport(loss.Value[0], solve.ForwardStats.FunctionEvaluations, Evaluations.Backward(solve));
        });

        double[] rates = model.Rates;
        context.Line();
        context.Line($"{"rate",-6} {"true",10} {"start",10} {"recovered",10} {"error",8}");
        string[] names = ["k1", "k2", "k3"];
        for (int j = 0; j < 3; j++)
            context.Line(string.Create(CultureInfo.InvariantCulture, $"{names[j],-6} {TrueRates[j],10:G4} {InitialGuess[j],10:G4} {rates[j],10:G4} {(rates[j] / TrueRates[j] - 1) * 100,7:F1}%"));

        double[] fitted = Solve(rates, times, options);
        var plot = Charts.New("Robertson: data and fit (y2 × 1e4)", "time", "concentration");
        double[] logTimes = Charts.Log10(times[1..]);
        string[] species = ["y1", "y2 × 1e4", "y3"];
        for (int c = 0; c < 3; c++)
        {
            double factor = c == 1 ? 1e4 : 1;
            Charts.Line(plot, logTimes, [.. Enumerable.Range(1, Observations).Select(k => fitted[k * 3 + c] * factor)], $"{species[c]} fitted");
            Charts.Points(plot, logTimes, [.. Enumerable.Range(1, Observations).Select(k => data[k * 3 + c] * factor)], $"{species[c]} observed", 4);
        }
        Charts.LogTicks(plot.Axes.Bottom, logTimes);
        context.Wrote(
            Charts.Save(plot, context.OutputPath("robertson-fit.png"), legendOutside: true),
            Charts.Save(Charts.Loss(losses, "Robertson: training loss"), context.OutputPath("robertson-loss.png")));
        return ExitCodes.Success;
    }

    /// <summary>The concentrations at every time (row-major, 3 per time) for the given rates.</summary>
    private static double[] Solve(double[] rates, double[] times, SolveOptions options)
    {
        var (set, logRates) = RateDynamics.CreateParameters(rates);
        return Ode.Solve(new Kinetics(set, logRates), [1.0, 0, 0], SaveAt.Times(times), options).Values.ToArray();
    }

    private sealed class Kinetics(ParameterSet<double> set, Parameter<double> logRates) : RateDynamics(set, logRates, new Shape(1, 3))
    {
        protected override Var<double> Record(Var<double> y, Var<double> rates)
        {
            var y1 = Column(y, 0);
            var y2 = Column(y, 1);
            var y3 = Column(y, 2);
            // [k1 y1, k2 y2², k3 y2 y3]
            var flows = Ops.MultiplyRow(Columns(y1, Ops.Multiply(y2, y2), Ops.Multiply(y2, y3)), rates);
            var decay = Column(flows, 0);
            var formation = Column(flows, 1);
            var back = Column(flows, 2);
            return Columns(back - decay, decay - back - formation, formation);
        }
    }
}
