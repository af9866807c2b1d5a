using System.CommandLine;
using System.Globalization;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.AutoDiff.Optim;
using NeuralOde.Core;
using NeuralOde.Core.Data;
using NeuralOde.Core.Flows;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.StepSize;
using NeuralOde.Examples.App;
using NeuralOde.Examples.Plotting;

namespace NeuralOde.Examples.Examples;

/// <summary>
/// FFJORD on a 2-D toy density: a continuous normalizing flow with ConcatSquash layers learns to map the data at t = 0
/// to a standard normal at t = T, by maximum likelihood; then samples, the learned density and the held-out NLL.
/// </summary>
/// <remarks>
/// Defaults are chosen so the default run finishes in well under two minutes on 2 cores and shows the eight modes: a
/// 32-32-32 ConcatSquash network (FFJORD's is 64-64-64), T = 0.5, Dormand–Prince 5(4) at rtol = atol = 1e-4, exact
/// trace, Adam lr 5e-3, batch 256.
/// </remarks>
internal static class CnfExample
{
    private const int HeldOut = 2000, GridPoints = 100;
    private const double Extent = 4.5;

    public static Command Command(AppEnvironment environment)
    {
        var common = new CommonOptions("Training iterations (default 1000; smoke 3).");
        string[] datasets = [.. Toy2D.All.Select(Name)];
        var dataset = Options.Choice("--dataset", "The 2-D toy density.", "8gaussians", datasets);
        var divergence = Options.Choice("--divergence", "How the trace of ∂f/∂z is computed.", "exact", "exact", "hutchinson");
        var sensitivity = Options.Choice("--sensitivity", "How gradients flow through the solve (reversible runs fixed reversible-Heun steps; reversible-rk wraps Dormand–Prince).", "backprop", [.. Sensitivities.WithReversible.Keys]);
        var batch = Options.Positive("--batch", "Samples per training batch.", 256);
        var learningRate = Options.Positive("--lr", "Adam learning rate.", 5e-3);
        var command = new Command("cnf", "Train a continuous normalizing flow (FFJORD) on a 2-D toy density; plot samples, density and loss.");
        common.AddTo(command);
        command.Options.Add(dataset);
        command.Options.Add(divergence);
        command.Options.Add(sensitivity);
        command.Options.Add(batch);
        command.Options.Add(learningRate);
        command.SetAction(result => ExampleApp.Guard(environment, () => Run(
            common.Bind(result, environment),
            Toy2D.All.First(s => Name(s) == result.GetValue(dataset)),
            result.GetValue(divergence) == "hutchinson",
            result.GetValue(sensitivity)!,
            result.GetValue(batch),
            result.GetValue(learningRate))));
        return command;
    }

    /// <summary>FFJORD's names for the toy sets (8gaussians, 2spirals, …).</summary>
    private static string Name(Toy2DSet set) => set switch
    {
        Toy2DSet.EightGaussians => "8gaussians",
        Toy2DSet.TwoSpirals => "2spirals",
        _ => set.ToString().ToLowerInvariant(),
    };

    public static int Run(RunContext context, Toy2DSet set, bool hutchinson, string sensitivityName, int batchSize, double learningRate)
    {
        int iterations = context.IterationsOr(1000, 3);
        if (context.Smoke) batchSize = Math.Min(batchSize, 64);
        var sensitivity = Sensitivities.WithReversible[sensitivityName]();
        var solver = sensitivity switch
        {
            Reversible => new SolveOptions { StepSize = new FixedStep(0.5 / 40) },
            ReversibleRungeKutta => SolveOptions.Torchdiffeq(1e-4, 1e-4) with { StepPastEnd = false },
            _ => SolveOptions.Torchdiffeq(1e-4, 1e-4),
        };
        var network = Mlp.Create<float>(2, context.Smoke ? [8] : [32, 32, 32], 2, Activation.Tanh, TimeInput.ConcatSquash, context.Seed);
        Divergence divergence = hutchinson ? new HutchinsonDivergence(ProbeNoise.Rademacher) : Divergence.Exact;
        var cnf = new Cnf<float>(new MlpVelocityField<float>(network), new CnfOptions { EndTime = 0.5, TrainingDivergence = divergence, Solver = solver });
        var adam = new Adam<float>(cnf.Parameters, learningRate, weightDecay: 1e-5);
        var tape = new Tape<float>();
        var random = new Random(context.Seed + 1);

        context.Line($"cnf: {Name(set)}, {divergence}, {sensitivity.GetType().Name}, batch {batchSize}, {iterations} iterations");
        var losses = TrainingLoop.Run(context, "cnf", iterations, i =>
        {
            var x = Toy2D.Sample<float>(set, batchSize, random);
            tape.Reset();
            adam.ZeroGradients();
            var pass = cnf.Forward(tape, x, noiseSeed: context.Seed * 1_000_003 + i, sensitivity);
            tape.Backward(pass.Loss);
            adam.Step();
            return new IterationReport(pass.Loss.Value[0], pass.ForwardEvaluations, pass.BackwardEvaluations);
        });

        int heldOutCount = context.Smoke ? 64 : HeldOut;
        var heldOut = Toy2D.Sample<float>(set, heldOutCount, context.Seed + 12345);
        double nll = -cnf.LogProb(heldOut).Average(v => (double)v);
        context.Line(string.Create(CultureInfo.InvariantCulture, $"held-out negative log-likelihood: {nll:F3} nats ({heldOutCount} fresh samples, exact trace)"));

        var samples = cnf.Sample(heldOutCount, context.Seed + 7);
        var scatter = Charts.New($"{Name(set)}: data and model samples", "x", "y");
        Charts.Points(scatter, SpiralExample.Column(ToDouble(heldOut), 0), SpiralExample.Column(ToDouble(heldOut), 1), "data", 2);
        Charts.Points(scatter, SpiralExample.Column(ToDouble(samples), 0), SpiralExample.Column(ToDouble(samples), 1), "model samples", 2);
        scatter.Axes.SetLimits(-Extent, Extent, -Extent, Extent);

        int points = context.Smoke ? 20 : GridPoints;
        var logDensity = cnf.LogProbGrid(-Extent, Extent, -Extent, Extent, points);
        var density = new double[points, points];
        for (int row = 0; row < points; row++)
        {
            for (int column = 0; column < points; column++) density[points - 1 - row, column] = Math.Exp(logDensity[row * points + column]);
        }
        var heat = Charts.New($"{Name(set)}: learned density", "x", "y");
        var map = heat.Add.Heatmap(density);
        map.Extent = new ScottPlot.CoordinateRect(-Extent, Extent, -Extent, Extent);
        map.Colormap = new ScottPlot.Colormaps.Viridis();

        context.Wrote(
            Charts.Save(scatter, context.OutputPath("samples.png")),
            SaveWithoutLegend(heat, context.OutputPath("density.png")),
            Charts.Save(Charts.Loss(losses, "CNF: training loss (NLL, nats)"), context.OutputPath("loss.png")));
        return ExitCodes.Success;
    }

    private static double[] ToDouble(float[] values) => [.. values.Select(v => (double)v)];

    private static string SaveWithoutLegend(ScottPlot.Plot plot, string path)
    {
        plot.SavePng(path, Charts.Width, Charts.Height);
        return path;
    }
}
