using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core;

/// <summary>
/// Remembers the <see cref="SolveOptions"/> something was built from, so it is rebuilt only when the options change:
/// equal by value (a <c>with</c> copy of equal options per iteration matches) and with every list of times and
/// tolerances still holding the values it held then (a per-component tolerance array changed in place does not match).
/// </summary>
internal sealed class SolveOptionsKey
{
    private SolveOptions? options;
    private double[]? absoluteTolerances, relativeTolerances;
    private double[] stepToTimes = [], jumpTimes = [];

    /// <summary>Whether <paramref name="candidate"/> describes the same solve as the remembered options.</summary>
    public bool Matches(SolveOptions candidate) =>
        options is not null && candidate.Equals(options)
        && Same(candidate.AbsoluteTolerances, absoluteTolerances) && Same(candidate.RelativeTolerances, relativeTolerances)
        && Same(candidate.StepToTimes, stepToTimes) && Same(candidate.JumpTimes, jumpTimes);

    /// <summary>Remembers <paramref name="current"/> and copies of its lists.</summary>
    public void Remember(SolveOptions current)
    {
        options = current;
        absoluteTolerances = current.AbsoluteTolerances is { } atol ? [.. atol] : null;
        relativeTolerances = current.RelativeTolerances is { } rtol ? [.. rtol] : null;
        stepToTimes = [.. current.StepToTimes];
        jumpTimes = [.. current.JumpTimes];
    }

    private static bool Same(IReadOnlyList<double>? values, double[]? copy)
    {
        if (values is null || copy is null) return values is null && copy is null;
        if (values.Count != copy.Length) return false;
        for (int i = 0; i < copy.Length; i++)
        {
            // Bitwise, so a NaN never matches and -0 differs from +0 (the options are validated to be finite anyway).
            if (BitConverter.DoubleToInt64Bits(values[i]) != BitConverter.DoubleToInt64Bits(copy[i])) return false;
        }
        return true;
    }
}

/// <summary>
/// One <see cref="Integrator{T}"/> kept across solves of the same dynamics with the same options (see
/// <see cref="SolveOptionsKey"/>), so a warm solve allocates nothing: every run starts from <see cref="Integrator{T}.Start"/>,
/// which resets all the loop's state, so a reused integrator computes exactly what a new one would.
/// </summary>
internal sealed class IntegratorCache<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly SolveOptionsKey key = new();
    private Integrator<T>? integrator;
    private IDynamics<T>? dynamics;

    /// <summary>
    /// The integrator for <paramref name="f"/> and <paramref name="options"/>, made on the first call and whenever either
    /// changes, publishing to <paramref name="listener"/>.
    /// </summary>
    public Integrator<T> For(IDynamics<T> f, SolveOptions options, IStepListener<T>? listener = null)
    {
        if (integrator is null || !ReferenceEquals(f, dynamics) || f.Dimension != integrator.Dimension || !key.Matches(options))
        {
            integrator = new Integrator<T>(f, options, null);
            dynamics = f;
            key.Remember(options);
        }
        integrator.Listener = listener;
        return integrator;
    }
}
