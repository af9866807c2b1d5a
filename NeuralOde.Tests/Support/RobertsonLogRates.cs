using System.Text.Json;
using NeuralOde.AutoDiff;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Tests.Support;

/// <summary>Robertson's kinetics with log-parameterised rate constants θ = ln k (k1 = 0.04, k2 = 3e7, k3 = 1e4), analytic VJPs.</summary>
public sealed class RobertsonLogRates : IDifferentiableDynamics<double>
{
    private readonly Parameter<double> logK;

    public RobertsonLogRates()
    {
        logK = Parameters.Add("logk", new Shape(1, 3));
        logK.Value[0] = Math.Log(0.04);
        logK.Value[1] = Math.Log(3e7);
        logK.Value[2] = Math.Log(1e4);
    }

    public int Dimension => 3;

    public ParameterSet<double> Parameters { get; } = new();

    public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> d)
    {
        double k1 = Math.Exp(logK.Value[0]), k2 = Math.Exp(logK.Value[1]), k3 = Math.Exp(logK.Value[2]);
        d[0] = -k1 * y[0] + k3 * y[1] * y[2];
        d[2] = k2 * y[1] * y[1];
        d[1] = -d[0] - d[2];
    }

    public void Vjp(double t, ReadOnlySpan<double> y, ReadOnlySpan<double> c, Span<double> gradY, Span<double> gradTheta)
    {
        double k1 = Math.Exp(logK.Value[0]), k2 = Math.Exp(logK.Value[1]), k3 = Math.Exp(logK.Value[2]);
        // Jᵀc with J = [[−k1, k3 y3, k3 y2], [k1, −k3 y3 − 2 k2 y2, −k3 y2], [0, 2 k2 y2, 0]].
        gradY[0] = -k1 * c[0] + k1 * c[1];
        gradY[1] = k3 * y[2] * c[0] + (-k3 * y[2] - 2 * k2 * y[1]) * c[1] + 2 * k2 * y[1] * c[2];
        gradY[2] = k3 * y[1] * c[0] - k3 * y[1] * c[1];
        // ∂f/∂ln k_j = k_j ∂f/∂k_j: ∂f/∂k1 = (−y1, y1, 0), ∂f/∂k2 = (0, −y2², y2²), ∂f/∂k3 = (y2 y3, −y2 y3, 0).
        gradTheta[0] = k1 * (-y[0] * c[0] + y[0] * c[1]);
        gradTheta[1] = k2 * (-y[1] * y[1] * c[1] + y[1] * y[1] * c[2]);
        gradTheta[2] = k3 * (y[1] * y[2] * c[0] - y[1] * y[2] * c[1]);
    }

    public Var<double> Record(Tape<double> tape, double t, Var<double> y) => throw new NotSupportedException("Robertson is differentiated by its VJP only");

    /// <summary>d y_i(40)/d ln k_j from Data/stiffproblems.json (forward sensitivities, Radau at rtol 1e-13, checked against CVODES).</summary>
    public static double[][] PublishedLogSensitivities()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "stiffproblems.json")));
        foreach (var p in doc.RootElement.GetProperty("problems").EnumerateArray())
        {
            if (p.GetProperty("name").GetString() != "rober_sens") continue;
            return [.. p.GetProperty("y_ref_sensitivity").GetProperty("t1").GetProperty("p_times_dy_dp").EnumerateArray()
                .Select(row => row.EnumerateArray().Select(v => v.GetDouble()).ToArray())];
        }
        throw new InvalidOperationException("rober_sens missing");
    }
}
