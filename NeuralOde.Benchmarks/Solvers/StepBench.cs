using System.Numerics;
using BenchmarkDotNet.Attributes;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Solvers;

namespace NeuralOde.Benchmarks.Solvers;

/// <summary>dy/dt = −y: the cheapest dynamics, so the benchmark measures the engine's own work per step.</summary>
internal sealed class DecayDynamics<T>(int dimension) : IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public int Dimension { get; } = dimension;

    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        for (int i = 0; i < y.Length; i++) dydt[i] = -y[i];
    }
}

/// <summary>One Runge–Kutta step (stages, solution, error estimate) per tableau, at a tiny, an odd and a CNF-sized state.</summary>
/// <typeparam name="T">float or double.</typeparam>
[MemoryDiagnoser]
[GenericTypeArguments(typeof(float))]
[GenericTypeArguments(typeof(double))]
public class StepBench<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private ExplicitRungeKutta<T> engine = null!;
    private DecayDynamics<T> f = null!;
    private T[] y0 = [], y1 = [], error = [];

    public static IEnumerable<ButcherTableau> AllTableaus => Tableaus.All;

    [ParamsSource(nameof(AllTableaus))]
    public ButcherTableau Tableau { get; set; } = Tableaus.DormandPrince54;

    [Params(3, 1031, 1536)]
    public int Dimension { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        engine = new ExplicitRungeKutta<T>(Tableau, Dimension);
        f = new DecayDynamics<T>(Dimension);
        y0 = [.. Enumerable.Range(0, Dimension).Select(i => T.CreateTruncating(1 + i * 1e-3))];
        y1 = new T[Dimension];
        error = new T[Dimension];
    }

    [Benchmark]
    public void Step() => engine.Step(f, 0.0, 0.01, y0, default, y1, engine.Tableau.HasErrorEstimate ? error : default);
}
