using System.Globalization;

namespace NeuralOde.Core.StepSize;

/// <summary>The adaptive proportional–integral step-size controller.</summary>
/// <remarks>
/// <para>
/// After a step with error ratio r_n (the <see cref="ErrorNorm"/> of err / (atol + rtol·max(|y0|, |y1|))), the step is
/// accepted if r_n ≤ 1 and the next step is h·clamp(safety·r_n^(−(iCoeff + pCoeff)/k)·r_{n−1}^(pCoeff/k), factorMin,
/// factorMax), with k = min(p, q) + 1 of the method and r_{n−1} the ratio of the last accepted step (1 at the start).
/// r_n = 0 gives factorMax.
/// </para>
/// <para>
/// Design choice: diffrax's PID and Hairer–Wanner (HNW II, §IV.2) write the same family with different names; we use
/// diffrax's (pCoeff, iCoeff) with the integral term alone by default (pCoeff 0, iCoeff 1: the classic controller that
/// scipy and torchdiffeq use). For neural ODEs diffrax suggests pCoeff 0.3, iCoeff 0.4.
/// </para>
/// </remarks>
public sealed class PiController : IStepSizeController
{
    /// <summary>
    /// torchdiffeq 0.2.5's dopri5 controller: pCoeff 0, iCoeff 1, safety 0.9, factorMax 10, factorMin 0.2 after a
    /// rejection but 1 after an acceptance (the step never shrinks after an accepted step).
    /// </summary>
    public static PiController Torchdiffeq { get; } = new() { FactorMinAfterAcceptance = 1.0 };

    /// <inheritdoc/>
    public bool IsAdaptive => true;

    /// <summary>The safety factor (default 0.9).</summary>
    public double Safety { get; init; } = 0.9;

    /// <summary>The proportional coefficient (default 0).</summary>
    public double PCoeff { get; init; }

    /// <summary>The integral coefficient (default 1).</summary>
    public double ICoeff { get; init; } = 1.0;

    /// <summary>The smallest factor by which a step may change (default 0.2).</summary>
    public double FactorMin { get; init; } = 0.2;

    /// <summary>The smallest factor after an accepted step; null means <see cref="FactorMin"/>. torchdiffeq uses 1.</summary>
    public double? FactorMinAfterAcceptance { get; init; }

    /// <summary>The largest factor by which a step may grow (default 10).</summary>
    public double FactorMax { get; init; } = 10.0;

    /// <summary>The smallest step magnitude (default 0). A step of this size that still fails the error test stops the solve with a step-size underflow.</summary>
    public double DtMin { get; init; }

    /// <summary>The largest step magnitude (default +∞).</summary>
    public double DtMax { get; init; } = double.PositiveInfinity;

    /// <summary>The first step's magnitude; null selects it with the Hairer–Nørsett–Wanner II.4 heuristic.</summary>
    public double? InitialStep { get; init; }

    /// <summary>The factor for the next step, given this step's and the last accepted step's error ratios.</summary>
    /// <param name="ratio">This step's error ratio r_n.</param>
    /// <param name="previousRatio">The last accepted step's error ratio r_{n−1}.</param>
    /// <param name="controllerOrder">k = min(p, q) + 1.</param>
    /// <param name="accepted">Whether this step was accepted.</param>
    /// <returns>The factor h_new / h.</returns>
    public double Factor(double ratio, double previousRatio, int controllerOrder, bool accepted)
    {
        double factorMin = accepted ? FactorMinAfterAcceptance ?? FactorMin : FactorMin;
        if (ratio == 0) return FactorMax;
        if (!double.IsFinite(ratio)) return FactorMin;
        double k = controllerOrder;
        double factor = Safety * Math.Pow(ratio, -(ICoeff + PCoeff) / k);
        if (PCoeff != 0 && previousRatio > 0) factor *= Math.Pow(previousRatio, PCoeff / k);
        return Math.Min(FactorMax, Math.Max(factorMin, factor));
    }

    /// <summary>Checks that the settings make sense.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it and its value.</exception>
    internal void Validate()
    {
        Check(Safety > 0 && Safety <= 1, nameof(Safety), Safety);
        Check(FactorMin > 0 && FactorMin <= 1, nameof(FactorMin), FactorMin);
        Check(FactorMax >= 1, nameof(FactorMax), FactorMax);
        if (FactorMinAfterAcceptance is double f) Check(f > 0 && f <= FactorMax, nameof(FactorMinAfterAcceptance), f);
        Check(DtMin >= 0 && double.IsFinite(DtMin), nameof(DtMin), DtMin);
        Check(DtMax > 0 && DtMax >= DtMin, nameof(DtMax), DtMax);
        Check(double.IsFinite(PCoeff) && double.IsFinite(ICoeff) && ICoeff + PCoeff > 0, nameof(ICoeff), ICoeff);
        if (InitialStep is double h0) Check(h0 > 0 && double.IsFinite(h0), nameof(InitialStep), h0);
    }

    private static void Check(bool ok, string name, double value)
    {
        if (!ok) throw new ArgumentOutOfRangeException(name, value, $"PiController.{name} = {value.ToString("R", CultureInfo.InvariantCulture)} is out of range.");
    }
}
