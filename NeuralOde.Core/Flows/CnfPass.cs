using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.Core.Sensitivity;

namespace NeuralOde.Core.Flows;

/// <summary>One CNF pass recorded on a tape: log-densities, the loss and what the solves cost.</summary>
/// <remarks>
/// A pass is valid until its tape is reset, as its handles are; after that the flow reuses the object for a later pass
/// (as <see cref="OdeSolveNode{T}"/> objects are reused), so a warm training iteration allocates nothing. Read what you
/// need to keep (a loss value, the NFE) before resetting the tape.
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class CnfPass<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly TapeClaim<T> claim = new();
    private readonly OdeSolveNode<T>[] solves;

    /// <summary>An empty pass for a flow of <paramref name="blocks"/> blocks, filled by <see cref="Record"/>.</summary>
    internal CnfPass(int blocks)
    {
        solves = new OdeSolveNode<T>[blocks];
        Solves = solves;
    }

    /// <summary>Whether no caller can still use this pass: it was never recorded, or its tape was reset (or collected) since.</summary>
    internal bool IsFree => claim.IsFree;

    /// <summary>The solve nodes, written by the flow while it records the pass.</summary>
    internal Span<OdeSolveNode<T>> SolveNodes => solves;

    /// <summary>Reserves the pass for <paramref name="tape"/> until the tape is reset: its handles are valid that long.</summary>
    internal void Claim(Tape<T> tape) => claim.Claim(tape);

    /// <summary>Sets the pass's outputs once its solves are recorded.</summary>
    internal CnfPass<T> Record(Var<T> logProb, Var<T> z, Var<T> delta, Var<T>? kinetic, Var<T>? jacobian, Var<T> nll, Var<T> loss)
    {
        LogProb = logProb;
        Z = z;
        Delta = delta;
        KineticEnergy = kinetic;
        JacobianFrobenius = jacobian;
        NegativeLogLikelihood = nll;
        Loss = loss;
        return this;
    }

    /// <summary>log p(x) = log p_base(z(T)) − Δ(T), B × 1.</summary>
    public Var<T> LogProb { get; private set; }

    /// <summary>z at the base time, B × D.</summary>
    public Var<T> Z { get; private set; }

    /// <summary>Δ at the base time (−∫ tr ∂f/∂z summed over blocks), B × 1.</summary>
    public Var<T> Delta { get; private set; }

    /// <summary>∫‖f‖² dt per point (B × 1), when carried.</summary>
    public Var<T>? KineticEnergy { get; private set; }

    /// <summary>∫‖J‖²_F dt per point (B × 1, estimated as the divergence estimates), when carried.</summary>
    public Var<T>? JacobianFrobenius { get; private set; }

    /// <summary>−mean log p(x), 1 × 1 (nats per sample).</summary>
    public Var<T> NegativeLogLikelihood { get; private set; }

    /// <summary>The negative log-likelihood plus the weighted regularisers, 1 × 1: what training minimises.</summary>
    public Var<T> Loss { get; private set; }

    /// <summary>One solve node per block, in integration order.</summary>
    public IReadOnlyList<OdeSolveNode<T>> Solves { get; }

    /// <summary>NFE-F: evaluations of the augmented dynamics in the forward solves.</summary>
    public long ForwardEvaluations
    {
        get
        {
            long sum = 0;
            foreach (var solve in solves) sum += solve.ForwardStats.FunctionEvaluations;
            return sum;
        }
    }

    /// <summary>NFE-B: evaluations made by the backward passes (zero before the reverse sweep, and for Backprop).</summary>
    public long BackwardEvaluations
    {
        get
        {
            long sum = 0;
            foreach (var solve in solves) sum += solve.BackwardStats?.FunctionEvaluations ?? 0;
            return sum;
        }
    }
}
