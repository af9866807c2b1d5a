using NeuralOde.Core.Sensitivity;

namespace NeuralOde.Core.Flows;

/// <summary>The settings of a <see cref="Cnf{T}"/>: time span, base distribution, divergence, solver and regularisers.</summary>
/// <remarks>
/// The defaults are FFJORD's 2-D runs: data at t = 0, base N(0, I) at T = 0.5, exact divergence, Dormand–Prince 5(4)
/// with rtol = atol = 1e-5 in torchdiffeq's form, no regularisers. torchdiffeq's CNF example (examples/cnf.py) is
/// StartTime = 10, EndTime = 0 and <c>BaseDistribution.IsotropicGaussian(2, 0.1)</c>.
/// </remarks>
public sealed record CnfOptions
{
    /// <summary>The time at which the data live (FFJORD: 0).</summary>
    public double StartTime { get; init; }

    /// <summary>The time at which the base distribution lives (FFJORD's T; its 2-D default 0.5). May lie before <see cref="StartTime"/>.</summary>
    public double EndTime { get; init; } = 0.5;

    /// <summary>Whether T = EndTime − StartTime is trained, parametrised as T = exp(s) so it stays positive (needs T &gt; 0).</summary>
    public bool LearnEndTime { get; init; }

    /// <summary>The base distribution (null: the standard normal in the field's dimension).</summary>
    public BaseDistribution? Base { get; init; }

    /// <summary>The divergence used by <see cref="Cnf{T}.Forward(AutoDiff.Tape{T}, ReadOnlySpan{T}, int, ISensitivity?, Divergence?)"/> (training).</summary>
    public Divergence TrainingDivergence { get; init; } = Divergence.Exact;

    /// <summary>The divergence used by <see cref="Cnf{T}.LogProb(ReadOnlySpan{T}, int)"/> (null: the exact trace up to <see cref="ExactEvaluationMaxDimension"/> dimensions, Rademacher-Hutchinson above).</summary>
    public Divergence? EvaluationDivergence { get; init; }

    /// <summary>The largest dimension in which evaluation defaults to the exact trace (D tangents per evaluation).</summary>
    public const int ExactEvaluationMaxDimension = 16;

    /// <summary>The solver; an RMS norm is replaced by the largest block RMS over the state's blocks (torchdiffeq's tuple norm).</summary>
    public SolveOptions Solver { get; init; } = SolveOptions.Torchdiffeq(1e-5, 1e-5);

    /// <summary>The regulariser weights.</summary>
    public CnfRegularization Regularization { get; init; }
}
