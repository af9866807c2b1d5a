using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.Core.Sensitivity;

namespace NeuralOde.Core.Flows;

/// <summary>One CNF pass recorded on a tape: log-densities, the loss and what the solves cost.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class CnfPass<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    internal CnfPass(Var<T> logProb, Var<T> z, Var<T> delta, Var<T>? kinetic, Var<T>? jacobian, Var<T> nll, Var<T> loss, OdeSolveNode<T>[] solves)
    {
        LogProb = logProb;
        Z = z;
        Delta = delta;
        KineticEnergy = kinetic;
        JacobianFrobenius = jacobian;
        NegativeLogLikelihood = nll;
        Loss = loss;
        Solves = solves;
    }

    /// <summary>log p(x) = log p_base(z(T)) − Δ(T), B × 1.</summary>
    public Var<T> LogProb { get; }

    /// <summary>z at the base time, B × D.</summary>
    public Var<T> Z { get; }

    /// <summary>Δ at the base time (−∫ tr ∂f/∂z summed over blocks), B × 1.</summary>
    public Var<T> Delta { get; }

    /// <summary>∫‖f‖² dt per point (B × 1), when carried.</summary>
    public Var<T>? KineticEnergy { get; }

    /// <summary>∫‖J‖²_F dt per point (B × 1, estimated as the divergence estimates), when carried.</summary>
    public Var<T>? JacobianFrobenius { get; }

    /// <summary>−mean log p(x), 1 × 1 (nats per sample).</summary>
    public Var<T> NegativeLogLikelihood { get; }

    /// <summary>The negative log-likelihood plus the weighted regularisers, 1 × 1: what training minimises.</summary>
    public Var<T> Loss { get; }

    /// <summary>One solve node per block, in integration order.</summary>
    public IReadOnlyList<OdeSolveNode<T>> Solves { get; }

    /// <summary>NFE-F: evaluations of the augmented dynamics in the forward solves.</summary>
    public long ForwardEvaluations => Solves.Sum(s => s.ForwardStats.FunctionEvaluations);

    /// <summary>NFE-B: evaluations made by the backward passes (zero before the reverse sweep, and for Backprop).</summary>
    public long BackwardEvaluations => Solves.Sum(s => s.BackwardStats?.FunctionEvaluations ?? 0);
}
