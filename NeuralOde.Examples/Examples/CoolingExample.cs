using System.CommandLine;
using System.Globalization;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Examples.App;
using NeuralOde.Examples.Plotting;

namespace NeuralOde.Examples.Examples;

/// <summary>
/// Newton's law of cooling, T' = −k(T − T_room), solved by every method with fixed steps and compared with the closed
/// form T(t) = T_room + (T0 − T_room)e^{−kt}. The slope of log error against log step size is each method's order.
/// </summary>
internal static class CoolingExample
{
    private const double Rate = 0.8, Room = 20, Initial = 90, EndTime = 4;

    public static Command Command(AppEnvironment environment)
    {
        var common = new CommonOptions("Number of step sizes, halving from h = 1 (default 10; smoke 4).");
        var command = new Command("cooling", "Every solver against Newton's law of cooling: a log-log plot of error against step size shows each method's order.");
        common.AddTo(command);
        command.SetAction(result => ExampleApp.Guard(environment, () => Run(common.Bind(result, environment))));
        return command;
    }

    public static int Run(RunContext context)
    {
        int levels = context.IterationsOr(10, 4);
        double exact = Room + (Initial - Room) * Math.Exp(-Rate * EndTime);
        double[] steps = [.. Enumerable.Range(0, levels).Select(i => Math.Pow(2, -i))];
        var methods = Tableaus.All;
        var errors = new double[methods.Count][];
        context.Line(string.Create(CultureInfo.InvariantCulture, $"cooling: T' = −{Rate}(T − {Room}), T(0) = {Initial}, error at t = {EndTime} against the closed form {exact:F12}"));
        TrainingLoop.Sweep(context, "cooling: every method", methods.Count, m =>
        {
            errors[m] = new double[levels];
            for (int i = 0; i < levels; i++)
            {
                var options = new SolveOptions { Method = methods[m], StepSize = new FixedStep(steps[i]) };
                var solution = Ode.Solve<double>(new Cooling(), [Initial], SaveAt.End(0, EndTime), options);
                errors[m][i] = Math.Abs(solution.States[^1][0] - exact);
            }
        });

        var plot = Charts.New("Newton's law of cooling: error at t = 4 against step size", "step size h", "|T(4) − exact|");
        double[] logSteps = Charts.Log10(steps);
        context.Line();
        context.Line($"{"method",-30} {"order",5} {"observed",9}  error at h = 1/{1 << (levels - 1)}");
        for (int m = 0; m < methods.Count && errors[m] is not null; m++)
        {
            double slope = ObservedOrder(steps, errors[m]);
            context.Line(string.Create(CultureInfo.InvariantCulture, $"{methods[m].Name,-30} {methods[m].Order,5} {slope,9:F2}  {errors[m][^1]:E2}"));
            var usable = Enumerable.Range(0, levels).Where(i => errors[m][i] > 0).ToArray();
            Charts.Line(plot, [.. usable.Select(i => logSteps[i])], Charts.Log10(usable.Select(i => errors[m][i])), $"{methods[m].Name} (p = {methods[m].Order})", 1.5f);
        }
        Charts.LogTicks(plot.Axes.Bottom);
        Charts.LogTicks(plot.Axes.Left);
        context.Wrote(Charts.Save(plot, context.OutputPath("cooling-order.png"), 1100, 700, legendOutside: true));
        return ExitCodes.Success;
    }

    /// <summary>
    /// The least-squares slope of log error against log h over the three smallest steps whose error is still above
    /// round-off (1e-11): large steps are pre-asymptotic, tiny ones drown in round-off.
    /// </summary>
    internal static double ObservedOrder(double[] steps, double[] errors)
    {
        var points = Enumerable.Range(0, steps.Length).Where(i => errors[i] > 1e-11).TakeLast(3).Select(i => (X: Math.Log(steps[i]), Y: Math.Log(errors[i]))).ToArray();
        if (points.Length < 2) return double.NaN;
        double mx = points.Average(p => p.X), my = points.Average(p => p.Y);
        return points.Sum(p => (p.X - mx) * (p.Y - my)) / points.Sum(p => (p.X - mx) * (p.X - mx));
    }

    private sealed class Cooling : IDynamics<double>
    {
        public int Dimension => 1;

        public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> dydt) => dydt[0] = -Rate * (y[0] - Room);
    }
}
