using System.Numerics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// The Rosenbrock 2(3) method of Shampine and Reichelt (MATLAB's ode23s; "The MATLAB ODE Suite", SIAM J. Sci. Comput.
/// 18(1), 1997, 1–22, Section 3.1): a linearly implicit, L-stable second-order method with a third-order error estimate
/// and a continuous extension, for stiff problems. Set it as <see cref="SolveOptions.Stepper"/>.
/// </summary>
/// <remarks>
/// <para>
/// With W = I − h·d·J, d = 1/(2 + √2), J = ∂f/∂y(t0, y0) and T = ∂f/∂t(t0, y0):
/// k1 = W⁻¹(f0 + h·d·T); f1 = f(t0 + h/2, y0 + (h/2)·k1); k2 = W⁻¹(f1 − k1) + k1; y1 = y0 + h·k2;
/// f2 = f(t1, y1); k3 = W⁻¹(f2 − e32·(k2 − f1) − 2(k1 − f0) + h·d·T), e32 = 6 + √2; the error estimate is
/// (h/6)(k1 − 2k2 + k3), and y(t0 + θh) = y0 + h·(θ(1 − θ)·k1 + θ(θ − 2d)·k2)/(1 − 2d). f2 is the next step's f0 (FSAL).
/// </para>
/// <para>
/// J and T are forward differences of f (n + 1 evaluations a step; column j steps by √ε·max(|y_j|, |h·f0_j|) in the state's
/// type, √ε where both are 0), formed and factored (LU with partial pivoting, in double) afresh at every attempted step. A singular or
/// non-finite W rejects the step (NaN error estimate), so the loop shrinks h and, if that never helps, stops with
/// StepSizeUnderflow or NonFiniteState. Plain solves, <see cref="OdeStepper{T}"/>, events, dense output and the adjoint's
/// backward solve run it, and Backprop and Checkpointed give the exact gradient of its discrete solve (as
/// <see cref="Rosenbrock"/>'s, J's and T's own dependence on y0 and θ included). The continuous adjoint reconstructs
/// the state backwards in time, which is unstable for a stiff decay whatever the method: use it for mildly stiff
/// problems only.
/// </para>
/// </remarks>
public sealed class Rosenbrock23 : IStepperFactory
{
    /// <inheritdoc/>
    public IStepper<T> Create<T>(int dimension)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        return new Rosenbrock23Stepper<T>(dimension);
    }

    /// <inheritdoc/>
    public override string ToString() => "Rosenbrock 2(3) (Shampine–Reichelt)";
}
