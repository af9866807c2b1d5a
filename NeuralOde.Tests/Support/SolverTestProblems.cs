using NUnit.Framework;
using System.Numerics;
using System.Text.Json;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Tests.Support;

/// <summary>The right-hand side of a test problem, written in double and cast to T.</summary>
public delegate void Rhs(double t, ReadOnlySpan<double> y, Span<double> dydt);

/// <summary>Plain dynamics from a delegate in double (the test problems are tiny; states of any T are converted per call).</summary>
public sealed class FuncDynamics<T> : IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Rhs rhs;
    private readonly double[] y;
    private readonly double[] dy;

    public FuncDynamics(int dimension, Rhs rhs)
    {
        Dimension = dimension;
        this.rhs = rhs;
        y = new double[dimension];
        dy = new double[dimension];
    }

    public int Dimension { get; }

    public int Calls { get; private set; }

    public void Evaluate(double t, ReadOnlySpan<T> state, Span<T> dydt)
    {
        Calls++;
        for (int i = 0; i < Dimension; i++) y[i] = double.CreateTruncating(state[i]);
        rhs(t, y, dy);
        for (int i = 0; i < Dimension; i++) dydt[i] = T.CreateTruncating(dy[i]);
    }
}

/// <summary>One problem of Data/odeproblems.json with its right-hand side.</summary>
public sealed record ReferenceProblem(string Name, double T0, double T1, double[] Y0, double[] YRef, (double T, double[] Y)[] Intermediate, Rhs Rhs)
{
    public override string ToString() => Name;

    public FuncDynamics<double> Dynamics() => new(Y0.Length, Rhs);
}

/// <summary>Loads the shared reference problems and codes each right-hand side from its description.</summary>
public static class SolverTestProblems
{
    private static readonly Lazy<IReadOnlyList<ReferenceProblem>> Loaded = new(Load);

    public static IReadOnlyList<ReferenceProblem> All => Loaded.Value;

    public static string DataPath(string relative) => Path.Combine(TestContext.CurrentContext.TestDirectory, "Data", relative);

    private static IReadOnlyList<ReferenceProblem> Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "odeproblems.json")));
        var list = new List<ReferenceProblem>();
        foreach (JsonElement p in doc.RootElement.GetProperty("problems").EnumerateArray())
        {
            string name = p.GetProperty("name").GetString()!;
            var prm = p.GetProperty("params").EnumerateObject().ToDictionary(x => x.Name, x => x.Value.GetDouble());
            double[] y0 = [.. p.GetProperty("y0").EnumerateArray().Select(x => x.GetDouble())];
            double[] yRef = [.. p.GetProperty("y_ref").EnumerateArray().Select(x => x.GetDouble())];
            (double, double[])[] mid = [.. p.GetProperty("y_ref_intermediate").EnumerateArray()
                .Select(x => (x.GetProperty("t").GetDouble(), x.GetProperty("y").EnumerateArray().Select(v => v.GetDouble()).ToArray()))];
            list.Add(new ReferenceProblem(name, p.GetProperty("t0").GetDouble(), p.GetProperty("t1").GetDouble(), y0, yRef, mid, Rhs(name, prm)));
        }
        return list;
    }

    private static Rhs Rhs(string name, Dictionary<string, double> p) => name switch
    {
        "exp_decay" => (t, y, d) => d[0] = -p["k"] * y[0],
        "harmonic_oscillator" => (t, y, d) => { d[0] = y[1]; d[1] = -p["omega"] * p["omega"] * y[0]; },
        "logistic" => (t, y, d) => d[0] = p["r"] * y[0] * (1 - y[0] / p["K"]),
        "newton_cooling" => (t, y, d) => d[0] = -p["k"] * (y[0] - p["T_env"]),
        "lotka_volterra" => (t, y, d) =>
        {
            d[0] = p["a"] * y[0] - p["b"] * y[0] * y[1];
            d[1] = -p["c"] * y[1] + p["d"] * y[0] * y[1];
        },
        "sir" => (t, y, d) =>
        {
            double infection = p["beta"] * y[0] * y[1] / p["N"];
            d[0] = -infection;
            d[1] = infection - p["gamma"] * y[1];
            d[2] = p["gamma"] * y[1];
        },
        "kepler" => (t, y, d) =>
        {
            double r = Math.Sqrt(y[0] * y[0] + y[1] * y[1]);
            double r3 = r * r * r;
            d[0] = y[2];
            d[1] = y[3];
            d[2] = -p["mu"] * y[0] / r3;
            d[3] = -p["mu"] * y[1] / r3;
        },
        "van_der_pol" => (t, y, d) => { d[0] = y[1]; d[1] = p["mu"] * (1 - y[0] * y[0]) * y[1] - y[0]; },
        "lorenz_short" => (t, y, d) =>
        {
            d[0] = p["sigma"] * (y[1] - y[0]);
            d[1] = p["r"] * y[0] - y[1] - y[0] * y[2];
            d[2] = y[0] * y[1] - p["b"] * y[2];
        },
        _ => throw new InvalidOperationException($"No right-hand side coded for problem '{name}'."),
    };
}
