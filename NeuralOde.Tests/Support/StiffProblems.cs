using System.Text.Json;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Tests.Support;

/// <summary>
/// The stiff reference problems of Data/stiffproblems.json, their right-hand sides, and scipy's costs on them
/// (Data/stiff-scipy-costs.json). Shared by the tests and the work–precision benchmark (linked into NeuralOde.Benchmarks).
/// </summary>
internal static partial class StiffProblems
{
    /// <summary>The problem's end time, start state and reference solution at the end time.</summary>
    public static (double T1, double[] Y0, double[] Reference) Problem(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "stiffproblems.json")));
        foreach (var p in doc.RootElement.GetProperty("problems").EnumerateArray())
        {
            if (p.GetProperty("name").GetString() != name) continue;
            double[] Read(string key) => [.. p.GetProperty(key).EnumerateArray().Select(e => e.GetDouble())];
            return (p.GetProperty("t1").GetDouble(), Read("y0"), Read("y_ref"));
        }
        throw new ArgumentException($"no problem {name}");
    }

    /// <summary>scipy's error at t1 in tolerance units for <paramref name="method"/> (Radau, BDF, LSODA) at rtol 1e-6 or 1e-8.</summary>
    public static double ScipyToleranceUnits(string name, string method, double rtol)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "stiff-scipy-costs.json")));
        foreach (var p in doc.RootElement.GetProperty("problems").EnumerateArray())
        {
            if (p.GetProperty("name").GetString() != name) continue;
            return p.GetProperty(method).GetProperty(rtol == 1e-6 ? "rtol_1e-06" : "rtol_1e-08").GetProperty("max_err_in_tol_units").GetDouble();
        }
        throw new ArgumentException($"no problem {name}");
    }

    /// <summary>stiff_linear4's matrix.</summary>
    private static readonly double[,] Linear4 =
    {
        { -252525.25, 247524.75, 252474.75, -247475.25 }, { 247524.75, -252525.25, -247475.25, 252474.75 },
        { 252474.75, -247475.25, -252525.25, 247524.75 }, { -247475.25, 252474.75, 247524.75, -252525.25 },
    };

    /// <summary>The right-hand sides by problem name.</summary>
    public static readonly Dictionary<string, OdeFunction<double>> Functions = new()
    {
        ["rober"] = (t, y, d) =>
        {
            d[0] = -0.04 * y[0] + 1e4 * y[1] * y[2];
            d[2] = 3e7 * y[1] * y[1];
            d[1] = -d[0] - d[2];
        },
        ["hires"] = (t, y, d) =>
        {
            const double k1 = 1.71, k2 = 0.43, k3 = 8.32, k4 = 0.69, k5 = 0.035, k6 = 8.32, k7 = 280, k8 = 0.69, k9 = 0.69, oks = 0.0007;
            d[0] = -k1 * y[0] + k2 * y[1] + k6 * y[2] + oks;
            d[1] = k1 * y[0] - (k2 + k3) * y[1];
            d[2] = -(k6 + k1) * y[2] + k2 * y[3] + k5 * y[4];
            d[3] = k3 * y[1] + k1 * y[2] - (k4 + k2) * y[3];
            d[4] = -(k5 + k1) * y[4] + k2 * (y[5] + y[6]);
            d[5] = -k7 * y[5] * y[7] + k8 * y[3] + k1 * y[4] - k2 * y[5] + k8 * y[6];
            d[6] = k7 * y[5] * y[7] - (k2 + k8 + k9) * y[6];
            d[7] = -d[6];
        },
        ["vdpolm"] = (t, y, d) =>
        {
            d[0] = y[1];
            d[1] = 1000 * (1 - y[0] * y[0]) * y[1] - y[0];
        },
        ["stiff_linear4"] = (t, y, d) =>
        {
            // The matrix is built once (as the scipy side's module-level A4): building it per call allocated 160 B an evaluation.
            double[,] a = Linear4;
            for (int i = 0; i < 4; i++) d[i] = a[i, 0] * y[0] + a[i, 1] * y[1] + a[i, 2] * y[2] + a[i, 3] * y[3];
        },
        ["prothero_robinson"] = (t, y, d) => d[0] = -1e6 * (y[0] - Math.Sin(t)) + Math.Cos(t),
    };

    /// <summary>max_i |y_i − ref_i| / (atol + rtol·|ref_i|), the stiff problems' error measure.</summary>
    public static double ToleranceUnits(ReadOnlySpan<double> y, double[] reference, double rtol, double atol)
    {
        double worst = 0;
        for (int i = 0; i < reference.Length; i++) worst = Math.Max(worst, Math.Abs(y[i] - reference[i]) / (atol + rtol * Math.Abs(reference[i])));
        return worst;
    }
}
