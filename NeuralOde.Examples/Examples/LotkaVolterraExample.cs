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
/// The predator–prey model x' = αx − βxy, y' = δxy − γy: recovers (α, β, δ, γ) from noisy observations by gradient
/// descent through the solver, or with --neural learns the whole right-hand side as an MLP.
/// </summary>
internal static class LotkaVolterraExample
{
    private static readonly LotkaVolterraParameters Truth = new(1.5, 1.0, 1.0, 3.0);
    private static readonly double[] InitialGuess = [1.0, 0.6, 0.6, 2.0];
    private const double EndTime = 10, Noise = 0.15;
    private const int Observations = 101;

    public static Command Command(AppEnvironment environment)
    {
        var common = new CommonOptions("Training iterations (default 400, or 1500 with --neural; smoke 5).");
        var neural = new Option<bool>("--neural") { Description = "Learn a neural right-hand side (MLP 2 → 32 → 32 → 2) instead of the four parameters." };
        var command = new Command("lotka-volterra", "Recover the predator–prey model's four parameters from noisy observations (or, with --neural, learn its right-hand side).");
        common.AddTo(command);
        command.Options.Add(neural);
        command.SetAction(result => ExampleApp.Guard(environment, () => Run(common.Bind(result, environment), result.GetValue(neural))));
        return command;
    }

    public static int Run(RunContext context, bool neural)
    {
        double[] times = Trajectories.Linspace(0, EndTime, Observations);
        double[] clean = Trajectories.LotkaVolterra(Truth, (1, 1), times);
        var random = new Random(context.Seed);
        double[] observed = [.. clean.Select(v => v + Noise * Gaussian(random))];
        context.Line(string.Create(CultureInfo.InvariantCulture, $"lotka-volterra: {Observations} noisy observations (σ = {Noise}) on [0, {EndTime}] of α, β, δ, γ = {Truth.Alpha}, {Truth.Beta}, {Truth.Delta}, {Truth.Gamma}"));
        return neural ? RunNeural(context, times, clean, observed) : RunParametric(context, times, clean, observed);
    }

    private static int RunParametric(RunContext context, double[] times, double[] clean, double[] observed)
    {
        var (set, logRates) = RateDynamics.CreateParameters(InitialGuess);
        var model = new PredatorPrey(set, logRates);
        var adam = new Adam<double>(set, 0.05);
        var tape = new Tape<double>();
        var options = new SolveOptions { RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-8 };
        int iterations = context.IterationsOr(400, 5);
        var losses = TrainingLoop.Run(context, "lotka-volterra", iterations, i =>
        {
            // A growing horizon: fitting all five cycles at once from a poor guess falls into a local minimum
            // (the phase slips by a cycle), so the fit starts on the first cycle and takes in the rest by 60 %.
            int seen = Math.Clamp(Observations / 4 + (int)((Observations - Observations / 4) * i / (0.6 * iterations)), 2, Observations);
            tape.Reset();
            adam.ZeroGradients();
            var solve = OdeLayer.Solve(tape, model, tape.Constant([1.0, 1.0], new Shape(1, 2)), SaveAt.Times(times[..seen]), options);
            var loss = Ops.MeanSquaredError(solve.States, tape.Constant(observed.AsSpan(0, seen * 2), solve.States.Shape));
            tape.Backward(loss);
            adam.Step();
            return new IterationReport(loss.Value[0], solve.ForwardStats.FunctionEvaluations, Evaluations.Backward(solve));
        });

        double[] rates = model.Rates;
        double[] truth = [Truth.Alpha, Truth.Beta, Truth.Delta, Truth.Gamma];
        string[] names = ["α", "β", "δ", "γ"];
        context.Line();
        context.Line($"{"parameter",-10} {"true",8} {"start",8} {"recovered",10}");
        for (int i = 0; i < 4; i++) context.Line(string.Create(CultureInfo.InvariantCulture, $"{names[i],-10} {truth[i],8:F3} {InitialGuess[i],8:F3} {rates[i],10:F3}"));
        var fitted = Trajectories.LotkaVolterra(new LotkaVolterraParameters(rates[0], rates[1], rates[2], rates[3]), (1, 1), times);
        WritePlots(context, times, clean, observed, fitted, losses, "fitted parameters");
        return ExitCodes.Success;
    }

    private static int RunNeural(RunContext context, double[] times, double[] clean, double[] observed)
    {
        // Windows of 25 observations (2.4 time units, about half a cycle) and a stepped learning-rate decay: with 10-point
        // windows and a constant rate the learned cycle came out visibly short (mean error 0.76 for seed 0; now 0.12).
        const int batch = 16, window = 25;
        var set = new ParameterSet<double>();
        var network = new Mlp<double>(set, 2, [32, 32], 2, Activation.Tanh, TimeInput.None, new Random(context.Seed), "field");
        var batchField = new NeuralField(network, batch);
        var adam = new Adam<double>(set, 1e-2);
        var tape = new Tape<double>();
        var options = new SolveOptions { RelativeTolerance = 1e-5, AbsoluteTolerance = 1e-7 };
        var random = new Random(context.Seed + 1);
        var y0 = new double[batch * 2];
        var target = new double[window * batch * 2];
        double[] windowTimes = times[..window];
        int iterations = context.IterationsOr(1500, 5);
        var losses = TrainingLoop.Run(context, "lotka-volterra --neural", iterations, i =>
        {
            adam.LearningRate = 1e-2 * (i < iterations / 2 ? 1 : i < 3 * iterations / 4 ? 0.3 : 0.1);
            for (int b = 0; b < batch; b++)
            {
                int start = random.Next(Observations - window);
                observed.AsSpan(start * 2, 2).CopyTo(y0.AsSpan(b * 2));
                for (int k = 0; k < window; k++) observed.AsSpan((start + k) * 2, 2).CopyTo(target.AsSpan((k * batch + b) * 2));
            }
            tape.Reset();
            adam.ZeroGradients();
            var solve = OdeLayer.Solve(tape, batchField, tape.Constant(y0, new Shape(batch, 2)), SaveAt.Times(windowTimes), options);
            var loss = Ops.MeanSquaredError(solve.States, tape.Constant(target, solve.States.Shape));
            tape.Backward(loss);
            adam.Step();
            return new IterationReport(loss.Value[0], solve.ForwardStats.FunctionEvaluations, Evaluations.Backward(solve));
        });
        var fitted = Ode.TrySolve(new NeuralField(network, 1), [1.0, 1.0], SaveAt.Times(times), options);
        if (!fitted.Succeeded) throw new ExampleException($"The learned field cannot be integrated over [0, {EndTime}]: {fitted.Failure!.Message}");
        WritePlots(context, times, clean, observed, fitted.Values.ToArray(), losses, "neural right-hand side");
        context.Line(string.Create(CultureInfo.InvariantCulture, $"What the plot shows: the field was fitted on {batch} windows of {window} noisy observations per iteration and"));
        context.Line("is then integrated once from (1, 1) over all three cycles, so a small error in the learned period shows as a growing phase");
        context.Line("shift by t = 10; the fit varies with --seed (seeds 0 to 4 gave mean errors 0.07 to 0.34; the four-parameter fit, without --neural, 0.013).");
        return ExitCodes.Success;
    }

    private static void WritePlots(RunContext context, double[] times, double[] clean, double[] observed, double[] fitted, List<double> losses, string what)
    {
        double error = 0;
        for (int i = 0; i < clean.Length; i++) error += Math.Abs(fitted[i] - clean[i]);
        context.Line(string.Create(CultureInfo.InvariantCulture, $"mean |fit − noiseless truth| over [0, {EndTime}]: {error / clean.Length:F4}"));
        var plot = Charts.New($"Lotka–Volterra: {what} against noisy data", "t", "population");
        Charts.Points(plot, times, SpiralExample.Column(observed, 0), "prey (observed)");
        Charts.Points(plot, times, SpiralExample.Column(observed, 1), "predator (observed)");
        Charts.Line(plot, times, SpiralExample.Column(clean, 0), "prey (true)", 1, ScottPlot.LinePattern.Dotted);
        Charts.Line(plot, times, SpiralExample.Column(clean, 1), "predator (true)", 1, ScottPlot.LinePattern.Dotted);
        Charts.Line(plot, times, SpiralExample.Column(fitted, 0), "prey (fit)");
        Charts.Line(plot, times, SpiralExample.Column(fitted, 1), "predator (fit)");
        context.Wrote(
            Charts.Save(plot, context.OutputPath("lotka-volterra-fit.png")),
            Charts.Save(Charts.Loss(losses, "Lotka–Volterra: training loss (mean squared error)"), context.OutputPath("lotka-volterra-loss.png")));
    }

    internal static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private sealed class PredatorPrey(ParameterSet<double> set, Parameter<double> logRates) : RateDynamics(set, logRates, new Shape(1, 2))
    {
        protected override Var<double> Record(Var<double> y, Var<double> rates)
        {
            var prey = Column(y, 0);
            var predator = Column(y, 1);
            var meetings = Ops.Multiply(prey, predator);
            var terms = Ops.MultiplyRow(Columns(prey, meetings, meetings, predator), rates);
            return Columns(Column(terms, 0) - Column(terms, 1), Column(terms, 2) - Column(terms, 3));
        }
    }

    private sealed class NeuralField(Mlp<double> network, int batch) : TapeDynamics<double>(network.Parameters, new Shape(batch, 2))
    {
        public override Var<double> Record(Tape<double> tape, double t, Var<double> y) => network.Forward(tape, y, t);
    }
}
