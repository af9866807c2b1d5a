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

    /// <summary>The most step sizes --iterations may ask for.</summary>
    internal const int MaximumLevels = 16;

    public static Command Command(AppEnvironment environment)
    {
        var common = new CommonOptions(
            $"Number of step sizes, halving from h = 1 (default 10; smoke 4; at most {MaximumLevels}). Fixed steps: the tolerances do not apply.",
            MaximumLevels,
            $"{MaximumLevels} levels already reach h = 2^-{MaximumLevels - 1} ({(int)(EndTime * (1 << (MaximumLevels - 1)))} fixed steps per method), where every method above first order is at round-off.");
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
        var methods = Methods();
        var errors = new double[methods.Count][];
        context.Line(string.Create(CultureInfo.InvariantCulture, $"cooling: T' = −{Rate}(T − {Room}), T(0) = {Initial}, error at t = {EndTime} against the closed form {exact:F12}"));
        TrainingLoop.Sweep(context, "cooling: every method", methods.Count, m =>
        {
            errors[m] = new double[levels];
            for (int i = 0; i < levels; i++)
            {
                var options = methods[m].Options(steps[i]) with { MaxSteps = (int)Math.Ceiling(EndTime / steps[i]) + 1 };
                var solution = Ode.Solve<double>(new Cooling(), [Initial], SaveAt.End(0, EndTime), options);
                errors[m][i] = Math.Abs(solution.States[^1][0] - exact);
            }
        });

        var plot = Charts.New("Newton's law of cooling: error at t = 4 against step size", "step size h", "|T(4) − exact|");
        double[] logSteps = Charts.Log10(steps);
        var logErrors = new List<double>();
        context.Line();
        context.Line($"{"method",-30} {"order",5} {"observed",9}  error at h = 1/{1 << (levels - 1)}");
        for (int m = 0; m < methods.Count && errors[m] is not null; m++)
        {
            double slope = ObservedOrder(steps, errors[m]);
            int twin = Enumerable.Range(0, m).FirstOrDefault(o => Coincide(errors[o], errors[m]), -1);
            string same = twin >= 0 ? $"  (coincides with {methods[twin].Name})" : "";
            context.Line(string.Create(CultureInfo.InvariantCulture, $"{methods[m].Name,-30} {methods[m].Order,5} {slope,9:F2}  {errors[m][^1]:E2}{same}"));
            var usable = Enumerable.Range(0, levels).Where(i => errors[m][i] > 0).ToArray();
            double[] ys = Charts.Log10(usable.Select(i => errors[m][i]));
            logErrors.AddRange(ys);
            string label = twin >= 0 ? $"{methods[m].Name} (p = {methods[m].Order}, = {methods[twin].Name})" : $"{methods[m].Name} (p = {methods[m].Order})";
            var series = plot.Add.ScatterLine([.. usable.Select(i => logSteps[i])], ys);
            series.LegendText = label;
            series.Color = Palette[m % Palette.Length];
            series.LineWidth = twin >= 0 ? 1 : 1.5f;
            // Solid, then dashed, then dotted for the next rounds of the palette (the stiff methods come last).
            series.LinePattern = (m / Palette.Length) switch { 0 => ScottPlot.LinePattern.Solid, 1 => ScottPlot.LinePattern.Dashed, _ => ScottPlot.LinePattern.Dotted };
            series.MarkerShape = Markers[m % Markers.Length];
            series.MarkerSize = twin >= 0 ? 11 : 6;   // a larger hollow-looking marker shows a twin under its original
        }
        AddSlopeGuides(plot, logSteps, logErrors);
        Charts.LogTicks(plot.Axes.Bottom, logSteps);
        Charts.LogTicks(plot.Axes.Left, logErrors);
        context.Line("Coinciding methods: on a linear problem an explicit method's step is y·R(hλ); every s-stage method of order s ≤ 4 has");
        context.Line("the same R (the Taylor polynomial of e^z), and some pairs propagate the same solution, so their curves lie on top of each other.");
        context.Line("Dashed grey: reference slopes 1, 2, 4, 5 and 8 (error ∝ h^p). The observed order is the slope over the three smallest");
        context.Line("steps whose error is still above round-off (1e-11). On this linear problem a method's error is set by how far its");
        context.Line("stability polynomial R(z) is from e^z: Prince–Dormand 8(7)'s R matches e^z exactly up to z^8 and its z^9 term to 0.13 %,");
        context.Line("so its 8th-order error term is about 1000 times smaller than usual; at the steps above round-off (h ≥ 1/8) the");
        context.Line("next terms dominate and the slope comes out near 10. Its 8th order would show only below round-off.");
        context.Wrote(Charts.Save(plot, context.OutputPath("cooling-order.png"), 1200, 750, legendOutside: true));
        return ExitCodes.Success;
    }

    /// <summary>A method of the sweep: its name, its order, and its options at a fixed step h.</summary>
    private sealed record Method(string Name, int Order, Func<double, SolveOptions> Options);

    /// <summary>Every explicit tableau, then the stiff methods (whose Newton iterations, for the ESDIRKs, stop far below the errors measured).</summary>
    private static List<Method> Methods()
    {
        var methods = Tableaus.All.Select(t => new Method(t.Name, t.Order, h => new SolveOptions { Method = t, StepSize = new FixedStep(h) })).ToList();
        Method Stiff(string name, int order, IStepperFactory stepper) =>
            new(name, order, h => new SolveOptions { Stepper = stepper, StepSize = new FixedStep(h), RelativeTolerance = 1e-12, AbsoluteTolerance = 1e-14 });
        methods.Add(Stiff("Rosenbrock 2(3)", 2, new Rosenbrock23()));
        methods.Add(Stiff(RosenbrockTableaus.Rodas4.Name, RosenbrockTableaus.Rodas4.Order, new Rosenbrock(RosenbrockTableaus.Rodas4)));
        methods.Add(Stiff(RosenbrockTableaus.Rodas5P.Name, RosenbrockTableaus.Rodas5P.Order, new Rosenbrock(RosenbrockTableaus.Rodas5P)));
        foreach (var t in new[] { EsdirkTableaus.TrBdf2, EsdirkTableaus.Kvaerno3, EsdirkTableaus.Kvaerno4, EsdirkTableaus.Kvaerno5 }) methods.Add(Stiff(t.Name, t.Order, new Esdirk(t)));
        return methods;
    }

    private static readonly ScottPlot.Color[] Palette =
    [
        ScottPlot.Color.FromHex("#1f77b4"), ScottPlot.Color.FromHex("#d62728"), ScottPlot.Color.FromHex("#2ca02c"),
        ScottPlot.Color.FromHex("#9467bd"), ScottPlot.Color.FromHex("#ff7f0e"), ScottPlot.Color.FromHex("#17becf"),
        ScottPlot.Color.FromHex("#8c564b"),
    ];

    private static readonly ScottPlot.MarkerShape[] Markers =
    [
        ScottPlot.MarkerShape.FilledCircle, ScottPlot.MarkerShape.FilledSquare, ScottPlot.MarkerShape.FilledTriangleUp,
        ScottPlot.MarkerShape.FilledDiamond, ScottPlot.MarkerShape.OpenCircle, ScottPlot.MarkerShape.OpenSquare,
        ScottPlot.MarkerShape.FilledTriangleDown, ScottPlot.MarkerShape.Cross, ScottPlot.MarkerShape.Eks,
        ScottPlot.MarkerShape.OpenTriangleUp, ScottPlot.MarkerShape.OpenDiamond, ScottPlot.MarkerShape.Asterisk,
        ScottPlot.MarkerShape.OpenTriangleDown, ScottPlot.MarkerShape.HashTag,
    ];

    /// <summary>Two error curves that agree to 6 digits (or to round-off, 1e-13) wherever both are above 1e-11.</summary>
    private static bool Coincide(double[] a, double[] b) =>
        Enumerable.Range(0, a.Length).Where(i => a[i] > 1e-11 && b[i] > 1e-11).All(i => Math.Abs(a[i] - b[i]) <= 1e-6 * Math.Max(a[i], b[i]) + 1e-13)
        && Enumerable.Range(0, a.Length).Any(i => a[i] > 1e-11 && b[i] > 1e-11);

    /// <summary>Grey dashed lines of slope 1, 2, 4, 5 and 8 through the largest step, labelled at their right-hand end.</summary>
    private static void AddSlopeGuides(ScottPlot.Plot plot, double[] logSteps, List<double> logErrors)
    {
        if (logSteps.Length < 2 || logErrors.Count == 0) return;
        double x0 = logSteps[0], x1 = logSteps[^1], top = logErrors.Max(), bottom = logErrors.Min();
        foreach (int p in (int[])[1, 2, 4, 5, 8])
        {
            double y0 = top + 0.5, y1 = y0 + p * (x1 - x0);
            double xEnd = y1 < bottom ? x0 + (bottom - y0) / p : x1, yEnd = y0 + p * (xEnd - x0);
            var guide = plot.Add.Line(x0, y0, xEnd, yEnd);
            guide.LineColor = ScottPlot.Colors.Gray.WithAlpha(0.7);
            guide.LineWidth = 1;
            guide.LinePattern = ScottPlot.LinePattern.Dashed;
            var text = plot.Add.Text($"slope {p}", xEnd, yEnd);
            text.LabelFontColor = ScottPlot.Colors.Gray;
            text.LabelFontSize = 12;
        }
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
