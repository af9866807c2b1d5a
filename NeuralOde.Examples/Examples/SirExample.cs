using System.CommandLine;
using System.Globalization;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Optim;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Data;
using NeuralOde.Examples.App;
using NeuralOde.Examples.Plotting;
using NeuralOde.Examples.Training;

namespace NeuralOde.Examples.Examples;

/// <summary>
/// The SIR epidemic s' = −βsi, i' = βsi − γi, r' = γi (fractions of a population of N): fits β and γ to noisy daily
/// counts of the infected, drawn as Poisson(N·i(day)), by gradient descent through the solver.
/// </summary>
internal static class SirExample
{
    private const double Beta = 0.4, Gamma = 0.1, Population = 10_000, InitialInfected = 10, Days = 120;
    private static readonly double[] InitialGuess = [0.25, 0.2];

    public static Command Command(AppEnvironment environment)
    {
        var common = new CommonOptions("Training iterations (default 300; smoke 5).");
        var command = new Command("sir", "Fit β and γ of an SIR epidemic to noisy daily infection counts; plots S, I and R with the data.");
        common.AddTo(command);
        command.SetAction(result => ExampleApp.Guard(environment, () => Run(common.Bind(result, environment))));
        return command;
    }

    public static int Run(RunContext context)
    {
        double[] days = Trajectories.Linspace(0, Days, (int)Days + 1);
        var y0 = (S: 1 - InitialInfected / Population, I: InitialInfected / Population, R: 0.0);
        double[] clean = Trajectories.Sir(Beta, Gamma, y0, days);
        var random = new Random(context.Seed);
        double[] counts = [.. Enumerable.Range(0, days.Length).Select(d => (double)Poisson(random, Population * clean[d * 3 + 1]))];
        double peak = counts.Max();
        context.Line(string.Create(CultureInfo.InvariantCulture, $"sir: {days.Length} daily counts of the infected (Poisson) in a population of {Population:N0}, true β = {Beta}, γ = {Gamma} (R0 = {Beta / Gamma:F1})"));

        var (set, logRates) = RateDynamics.CreateParameters(InitialGuess);
        var model = new Epidemic(set, logRates);
        var adam = new Adam<double>(set, 0.03);
        var tape = new Tape<double>();
        var options = new SolveOptions { RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-9 };
        double[] scaledCounts = [.. counts.Select(c => c / peak)];
        var losses = TrainingLoop.Run(context, "sir", context.IterationsOr(300, 5), _ =>
        {
            tape.Reset();
            adam.ZeroGradients();
            var solve = OdeLayer.Solve(tape, model, tape.Constant([y0.S, y0.I, y0.R], new Shape(1, 3)), SaveAt.Times(days), options);
            // Compare infected counts on the scale of the epidemic's peak, so the loss is of order one.
            var infected = Ops.Scale(Ops.SliceColumns(solve.States, 1, 1), Population / peak);
            var loss = Ops.MeanSquaredError(infected, tape.Constant(scaledCounts, infected.Shape));
            tape.Backward(loss);
            adam.Step();
            return new IterationReport(loss.Value[0], solve.ForwardStats.FunctionEvaluations, Evaluations.Backward(solve));
        });

        double[] rates = model.Rates;
        context.Line();
        context.Line($"{"parameter",-10} {"true",8} {"start",8} {"recovered",10}");
        context.Line(string.Create(CultureInfo.InvariantCulture, $"{"β",-10} {Beta,8:F3} {InitialGuess[0],8:F3} {rates[0],10:F3}"));
        context.Line(string.Create(CultureInfo.InvariantCulture, $"{"γ",-10} {Gamma,8:F3} {InitialGuess[1],8:F3} {rates[1],10:F3}"));
        context.Line(string.Create(CultureInfo.InvariantCulture, $"{"R0",-10} {Beta / Gamma,8:F3} {InitialGuess[0] / InitialGuess[1],8:F3} {rates[0] / rates[1],10:F3}"));

        double[] fitted = Trajectories.Sir(rates[0], rates[1], y0, days);
        var plot = Charts.New("SIR: fitted epidemic and daily infected counts", "day", "people");
        string[] names = ["S (susceptible)", "I (infected)", "R (recovered)"];
        for (int c = 0; c < 3; c++) Charts.Line(plot, days, [.. SpiralExample.Column(fitted, c, 3).Select(v => v * Population)], names[c]);
        Charts.Points(plot, days, counts, "infected (observed)", 4);
        context.Wrote(
            Charts.Save(plot, context.OutputPath("sir-fit.png")),
            Charts.Save(Charts.Loss(losses, "SIR: training loss"), context.OutputPath("sir-loss.png")));
        return ExitCodes.Success;
    }

    /// <summary>A Poisson draw: Knuth's product method for small means, a rounded normal approximation above 50.</summary>
    internal static long Poisson(Random random, double mean)
    {
        if (mean <= 0) return 0;
        if (mean > 50) return Math.Max(0, (long)Math.Round(mean + Math.Sqrt(mean) * LotkaVolterraExample.Gaussian(random)));
        double limit = Math.Exp(-mean), product = random.NextDouble();
        long k = 0;
        while (product > limit)
        {
            k++;
            product *= random.NextDouble();
        }
        return k;
    }

    private sealed class Epidemic(ParameterSet<double> set, Parameter<double> logRates) : RateDynamics(set, logRates, new Shape(1, 3))
    {
        protected override Var<double> Record(Var<double> y, Var<double> rates)
        {
            var s = Column(y, 0);
            var i = Column(y, 1);
            var flows = Ops.MultiplyRow(Columns(Ops.Multiply(s, i), i), rates);
            var infections = Column(flows, 0);
            var recoveries = Column(flows, 1);
            return Columns(-infections, infections - recoveries, recoveries);
        }
    }
}
