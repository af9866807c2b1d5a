using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Data;

/// <summary>Reference trajectories of the classic small systems the examples learn from: spiral, predator–prey, epidemic.</summary>
/// <remarks>
/// Each generator solves its system with Dormand–Prince 5(4) at rtol = 1e-10, atol = 1e-12 in double and returns the
/// states at the requested times as one row-major array (times × dimension). Noise, where wanted, is the caller's:
/// the generators are deterministic.
/// </remarks>
public static class Trajectories
{
    private static readonly SolveOptions Tight = new() { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-12 };

    /// <summary>torchdiffeq's cubic spiral dy/dt = y³A with A = [[−0.1, 2], [−2, −0.1]] (y a row vector, cubed elementwise).</summary>
    /// <param name="y0">The initial state (x, y); torchdiffeq's demo uses (2, 0).</param>
    /// <param name="times">Strictly increasing times, the first being the initial time.</param>
    /// <returns>times.Length × 2 states, row-major.</returns>
    public static double[] CubicSpiral((double X, double Y) y0, IReadOnlyList<double> times) =>
        Solve(new CubicSpiralSystem(), [y0.X, y0.Y], times);

    /// <summary>The Lotka–Volterra predator–prey system: x' = αx − βxy, y' = δxy − γy.</summary>
    /// <param name="parameters">α, β, δ, γ.</param>
    /// <param name="y0">The initial prey and predator populations.</param>
    /// <param name="times">Strictly increasing times, the first being the initial time.</param>
    /// <returns>times.Length × 2 states (prey, predator), row-major.</returns>
    public static double[] LotkaVolterra(LotkaVolterraParameters parameters, (double Prey, double Predator) y0, IReadOnlyList<double> times) =>
        Solve(new LotkaVolterraSystem(parameters), [y0.Prey, y0.Predator], times);

    /// <summary>The SIR epidemic in population fractions: s' = −βsi, i' = βsi − γi, r' = γi.</summary>
    /// <param name="beta">The infection rate β (per day).</param>
    /// <param name="gamma">The recovery rate γ (per day).</param>
    /// <param name="y0">The initial susceptible, infected and recovered fractions.</param>
    /// <param name="times">Strictly increasing times in days, the first being the initial time.</param>
    /// <returns>times.Length × 3 states (s, i, r), row-major.</returns>
    public static double[] Sir(double beta, double gamma, (double S, double I, double R) y0, IReadOnlyList<double> times) =>
        Solve(new SirSystem(beta, gamma), [y0.S, y0.I, y0.R], times);

    /// <summary>Evenly spaced times: <paramref name="count"/> points from <paramref name="start"/> to <paramref name="end"/> inclusive.</summary>
    /// <param name="start">The first time.</param>
    /// <param name="end">The last time.</param>
    /// <param name="count">The number of points, at least 2.</param>
    /// <returns>The times.</returns>
    public static double[] Linspace(double start, double end, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 2);
        var times = new double[count];
        for (int i = 0; i < count; i++) times[i] = start + (end - start) * i / (count - 1);
        times[^1] = end;
        return times;
    }

    private static double[] Solve(IDynamics<double> f, double[] y0, IReadOnlyList<double> times)
    {
        ArgumentNullException.ThrowIfNull(times);
        var solution = Ode.Solve<double>(f, y0, SaveAt.Times([.. times]), Tight);
        return solution.Values.ToArray();
    }

    private sealed class CubicSpiralSystem : IDynamics<double>
    {
        public int Dimension => 2;

        public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> dydt)
        {
            double x3 = y[0] * y[0] * y[0], y3 = y[1] * y[1] * y[1];
            dydt[0] = -0.1 * x3 - 2.0 * y3;
            dydt[1] = 2.0 * x3 - 0.1 * y3;
        }
    }

    private sealed class LotkaVolterraSystem(LotkaVolterraParameters p) : IDynamics<double>
    {
        public int Dimension => 2;

        public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> dydt)
        {
            dydt[0] = p.Alpha * y[0] - p.Beta * y[0] * y[1];
            dydt[1] = p.Delta * y[0] * y[1] - p.Gamma * y[1];
        }
    }

    private sealed class SirSystem(double beta, double gamma) : IDynamics<double>
    {
        public int Dimension => 3;

        public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> dydt)
        {
            double infections = beta * y[0] * y[1], recoveries = gamma * y[1];
            dydt[0] = -infections;
            dydt[1] = infections - recoveries;
            dydt[2] = recoveries;
        }
    }
}

/// <summary>The four rates of the Lotka–Volterra system x' = αx − βxy, y' = δxy − γy.</summary>
/// <param name="Alpha">α: the prey's growth rate.</param>
/// <param name="Beta">β: the rate at which predators eat prey.</param>
/// <param name="Delta">δ: the predators' growth per prey eaten.</param>
/// <param name="Gamma">γ: the predators' death rate.</param>
public readonly record struct LotkaVolterraParameters(double Alpha, double Beta, double Delta, double Gamma);
