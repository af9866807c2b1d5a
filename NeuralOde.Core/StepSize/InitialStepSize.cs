using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.StepSize;

/// <summary>The first step of an adaptive solve when none is given: Hairer, Nørsett and Wanner, Solving ODEs I, II.4.</summary>
internal static class InitialStepSize
{
    /// <summary>
    /// The heuristic's step magnitude from (t0, y0) with f0 = f(t0, y0) already known: one evaluation of f, at
    /// t0 + h0 from y0 + h0·f0. The scratch spans receive intermediate values.
    /// </summary>
    public static double Estimate<T>(IDynamics<T> f, double t0, double direction, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0, int order,
        ErrorNorm norm, double[] atol, double[] rtol, Span<T> stateScratch, Span<T> derivativeScratch, Span<T> differenceScratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = y0.Length;
        double d0 = norm.Compute<T>(y0, y0, y0, atol, rtol);
        double d1 = norm.Compute<T>(f0, y0, y0, atol, rtol);
        // d1 = ∞ (a component with zero scale that moves, e.g. Δ log p with atol = 0) would give h0 = 0: take the
        // small-norm branch's 1e-6 instead; the norms both overflowing (inf/inf) stays NaN and is refused by the loop.
        double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
        if (h0 == 0 && double.IsPositiveInfinity(d1)) h0 = 1e-6;
        if (!double.IsFinite(h0)) return h0;
        T hT = T.CreateTruncating(direction * h0);
        for (int i = 0; i < n; i++) stateScratch[i] = y0[i] + hT * f0[i];
        f.Evaluate(t0 + direction * h0, stateScratch, derivativeScratch);
        for (int i = 0; i < n; i++) differenceScratch[i] = derivativeScratch[i] - f0[i];
        double d2 = norm.Compute<T>(differenceScratch, y0, y0, atol, rtol) / h0;
        if (!double.IsFinite(d2)) return h0;
        double dMax = Math.Max(d1, d2);
        double h1 = dMax <= 1e-15 ? Math.Max(1e-6, h0 * 1e-3) : Math.Pow(0.01 / dMax, 1.0 / order);
        double estimate = Math.Min(100 * h0, h1);
        return estimate > 0 ? estimate : h0;
    }
}
