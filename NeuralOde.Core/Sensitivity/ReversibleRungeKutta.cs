using System.Globalization;
using System.Numerics;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Core.Sensitivity;

/// <summary>
/// McCallum and Foster's reversible wrapper ("Efficient, accurate and stable gradients for neural ODEs", 2024): any
/// explicit Runge–Kutta method of <see cref="SolveOptions.Method"/>, fixed or adaptive steps, made algebraically
/// reversible, so the backward pass reconstructs every earlier state from the later one and takes the exact gradient of
/// its own discretisation with memory that does not grow with the state history.
/// </summary>
/// <remarks>
/// <para>
/// The solve carries a second state z beside y (both start at y0). With Φ(t → t', u) the base method's step from
/// (t, u) to t' and the coupling λ ∈ (0, 1], one step from t_n to t_{n+1} is
/// <c>y_{n+1} = λ(y_n − z_n) + Φ(t_n → t_{n+1}, z_n)</c> and <c>z_{n+1} = y_{n+1} + z_n − Φ(t_{n+1} → t_n, y_{n+1})</c>;
/// its exact inverse is <c>z_n = z_{n+1} − y_{n+1} + Φ(t_{n+1} → t_n, y_{n+1})</c> and
/// <c>y_n = (y_{n+1} − Φ(t_n → t_{n+1}, z_n))/λ + z_n</c>. The output is y. It keeps the base method's order
/// (measured: 3.97 with classic RK4 on the harmonic oscillator). Each step costs two base steps.
/// </para>
/// <para>
/// Stability: on y' = μy with R the base method's stability function, a step has a physical mode R(hμ) and a parasitic
/// mode λ/R(hμ) (their product is λ), so the forward is stable where λ ≤ |R(hμ)| ≤ 1: a region of the plane, unlike
/// reversible Heun's segment [−i, i] (see <see cref="Reversible"/>). With the default λ = 0.999 (the paper's and
/// diffrax's) that is a thin band along the imaginary axis: oscillatory and mildly decaying dynamics (measured, RK4,
/// h = 0.01: μ = −1 over T = 5 is accurate to 5e-9) but not strong decay (μ = −20 over T = 1 diverges, the parasitic
/// mode growing 1.22 a step); a smaller λ widens it (λ = 0.5 makes that case stable, error 1.6e-4, RK4's own).
/// Reconstruction undoes contraction, so it amplifies round-off by the solve's decay factor (exact to 3e-15 in the mild
/// case above, to 1e-14 on a harmonic oscillator over 1000 steps).
/// </para>
/// <para>
/// Adaptive steps: the local error estimate is the base method's embedded estimate of the step Φ(t_{n+1} → t_n, y_{n+1}),
/// measured with <see cref="SolveOptions.Norm"/> against y_n and y_{n+1}, and accepted or rejected by the
/// <see cref="PiController"/> of <see cref="SolveOptions.StepSize"/>. The forward keeps the accepted step times (8 bytes a
/// step, for the backward to replay the same grid), the final (y, z) and the saved states: no stages and no tape. With
/// fixed steps nothing is kept per step: step j of interval k is at t_k + j·h in both passes, so memory is flat.
/// </para>
/// <para>
/// The backward pass walks the steps in reverse; each step re-records the two base steps on a scratch tape (which also
/// reconstructs z_n and y_n) and applies their exact vector–Jacobian products. Cost: each step re-records 2·s
/// evaluations (s the base method's stages) and takes 2·s vector–Jacobian products, as NFE-B reports.
/// </para>
/// <para>
/// Time gradients use the continuous formulas on the discrete solution, as <see cref="Reversible"/> does:
/// dL/dt_i = ⟨∂L/∂y(t_i), f(t_i, y_i)⟩ for a saved time and dL/dt0 = −⟨a(t0), f(t0, y0)⟩.
/// </para>
/// </remarks>
public sealed class ReversibleRungeKutta : ISensitivity
{
    private readonly double coupling = 0.999;

    /// <summary>λ in (0, 1]: how strongly y is pulled back towards z each step (default 0.999).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in (0, 1].</exception>
    public double Coupling
    {
        get => coupling;
        init
        {
            if (!(value > 0 && value <= 1))
                throw new ArgumentOutOfRangeException(nameof(Coupling), value, $"The coupling λ must lie in (0, 1], got {value.ToString("R", CultureInfo.InvariantCulture)}.");
            coupling = value;
        }
    }

    /// <summary>Checks that <paramref name="options"/> describe a solve the reversible wrapper can run.</summary>
    /// <param name="options">Any explicit tableau as <see cref="SolveOptions.Method"/> (with a <see cref="PiController"/>,
    /// one with an embedded error estimate; the solve's own validation refuses the others); a <see cref="FixedStep"/>
    /// or a <see cref="PiController"/>; no StepPastEnd, StepToTimes, JumpTimes or DenseOutput (the wrapper lands on every saved time).</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The options ask for something the wrapper does not do; the message says what.</exception>
    public static void EnsureSupported(SolveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.StepSize is not (FixedStep or PiController))
            throw new ArgumentException($"The ReversibleRungeKutta sensitivity needs a FixedStep or a PiController, not {options.StepSize?.GetType().Name ?? "null"}.", nameof(options));
        ReversibleOptionChecks.RefuseNonLandingOptions(options, nameof(ReversibleRungeKutta), "", "keeps no stages");
    }

    /// <summary>Creates the forward/backward pair for one solve node.</summary>
    internal ReversibleRungeKuttaGradient<T> CreateGradient<T>(AutoDiff.Shape shape)
        where T : unmanaged, IFloatingPointIeee754<T> => new(shape, coupling);

    /// <inheritdoc/>
    ISolveGradient<T> ISensitivity.CreateSolveGradient<T>(AutoDiff.Shape stateShape) => CreateGradient<T>(stateShape);
}
