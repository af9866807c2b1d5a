namespace NeuralOde.Core.Flows;

/// <summary>The RNODE regularisers (Finlay et al. 2020, "How to train your neural ODE", §3) as weights; zero leaves one out.</summary>
/// <param name="KineticEnergy">λ_K: the weight of ∫‖f‖² dt, integrated as an extra state per point.</param>
/// <param name="JacobianFrobenius">
/// λ_J: the weight of ∫‖∂f/∂z‖²_F dt, estimated by ‖J ε‖² with the divergence's own tangents (unbiased when
/// E[εεᵀ] = I) or, with the exact divergence, computed exactly as Σ_k ‖J e_k‖².
/// </param>
/// <remarks>The loss adds λ_K·mean(∫‖f‖²) + λ_J·mean(∫‖J‖²_F) over the batch to the negative log-likelihood.</remarks>
public readonly record struct CnfRegularization(double KineticEnergy, double JacobianFrobenius)
{
    /// <summary>No regularisation.</summary>
    public static CnfRegularization None => default;

    internal bool HasKinetic => KineticEnergy != 0;

    internal bool HasFrobenius => JacobianFrobenius != 0;

    internal int States => (HasKinetic ? 1 : 0) + (HasFrobenius ? 1 : 0);

    internal void Validate()
    {
        if (!double.IsFinite(KineticEnergy) || KineticEnergy < 0)
            throw new ArgumentOutOfRangeException(nameof(KineticEnergy), KineticEnergy, "A regulariser weight must be finite and non-negative.");
        if (!double.IsFinite(JacobianFrobenius) || JacobianFrobenius < 0)
            throw new ArgumentOutOfRangeException(nameof(JacobianFrobenius), JacobianFrobenius, "A regulariser weight must be finite and non-negative.");
    }
}
