using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// The second-order terms of a gradient through a Rosenbrock step, whose matrix I − hγJ and time derivative ∂f/∂t are
/// functions of the step's start state and the parameters: ∇_{y,θ} Σ_s λ_sᵀ·J(y)·u_s and ∇_{y,θ} wᵀ·∂f/∂t(t, y), with J
/// and ∂f/∂t the exact derivatives. Each is a directional derivative of a vector–Jacobian product (∇_y(λᵀJu) is the
/// derivative of ∇_y(λᵀf) along u), taken by a central difference of two VJPs: the truncation error is O(ε²)·f‴ (zero
/// for dynamics quadratic in y, such as mass-action kinetics) and the rounding error O(ε_T/ε), so with ε = ε_T^(1/3)
/// both are near ε_T^(2/3) of the term (about 4e-11 in double, 2e-5 in float).
/// </summary>
/// <remarks>
/// With D components per independent row and s stage pairs, Σ_s λ_s u_sᵀ is gathered into D × D blocks and
/// differentiated along the D unit directions (every row perturbed at once, as the block Jacobian is found), 2·D
/// products; when D exceeds s the pairs are taken as they are, 2·s products. Allocation-free once the buffers exist.
/// </remarks>
internal sealed class JacobianCurvature<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly double Step = DifferenceSteps<T>.Central;

    private readonly int n;
    private readonly T[] probe, probeDown, cotangent, gradY;
    private double[] jBar = [];
    private T[] gradTheta = [];

    public JacobianCurvature(int n)
    {
        this.n = n;
        probe = new T[n];
        probeDown = new T[n];
        cotangent = new T[n];
        gradY = new T[n];
    }

    /// <summary>
    /// Adds ∇_y Σ_s λ_sᵀ·J·u_s to <paramref name="yBar"/> and ∇_θ to <paramref name="thetaBar"/> at (t, y), over the
    /// first <paramref name="pairs"/> rows of <paramref name="lambdas"/> and <paramref name="us"/>; returns the VJPs made.
    /// </summary>
    public int AddJacobianTerm(IDifferentiableDynamics<T> f, double t, ReadOnlySpan<T> y, double[][] lambdas, T[][] us, int pairs, Span<T> yBar, Span<T> thetaBar)
    {
        EnsureTheta(f);
        int blocks = JacobianBlocks.Count(n, f.IndependentRows), d = n / blocks;
        return d <= pairs ? AlongUnitDirections(f, t, y, lambdas, us, pairs, blocks, d, yBar, thetaBar) : AlongPairs(f, t, y, lambdas, us, pairs, yBar, thetaBar);
    }

    /// <summary>Adds ∇_y wᵀ·∂f/∂t to <paramref name="yBar"/> and ∇_θ to <paramref name="thetaBar"/> at (t, y) for a step of size h; returns the VJPs made (0 when w is zero).</summary>
    public int AddTimeTerm(IDifferentiableDynamics<T> f, double t, double h, ReadOnlySpan<T> y, ReadOnlySpan<double> w, Span<T> yBar, Span<T> thetaBar)
    {
        if (f.IsAutonomous || !w.ContainsAnyExcept(0.0)) return 0;
        EnsureTheta(f);
        double epsilon = Step * Math.Max(Math.Max(Math.Abs(t), Math.Abs(h)), 1e-300);
        // The times as the dynamics see them: the difference is taken between the two actually evaluated.
        double plus = t + epsilon, minus = t - epsilon, scale = 1 / (plus - minus);
        for (int i = 0; i < n; i++) cotangent[i] = T.CreateTruncating(w[i] * scale);
        Accumulate(f, plus, y, +1, yBar, thetaBar);
        Accumulate(f, minus, y, -1, yBar, thetaBar);
        return 2;
    }

    private int AlongUnitDirections(IDifferentiableDynamics<T> f, double t, ReadOnlySpan<T> y, double[][] lambdas, T[][] us, int pairs, int blocks, int d, Span<T> yBar, Span<T> thetaBar)
    {
        // J̄_b = Σ_s λ_{s,b}·u_{s,b}ᵀ per block; then Σ_s λ_sᵀJu_s = Σ_j Σ_b J̄_b[:, j]ᵀ·J_b·e_j.
        if (jBar.Length != blocks * d * d) jBar = new double[blocks * d * d];
        Array.Clear(jBar);
        for (int s = 0; s < pairs; s++)
        {
            double[] lambda = lambdas[s];
            T[] u = us[s];
            for (int b = 0; b < blocks; b++)
            {
                int offset = b * d, block = b * d * d;
                for (int i = 0; i < d; i++)
                {
                    double li = lambda[offset + i];
                    if (li == 0) continue;
                    for (int j = 0; j < d; j++) jBar[block + i * d + j] += li * double.CreateTruncating(u[offset + j]);
                }
            }
        }
        int products = 0;
        for (int j = 0; j < d; j++)
        {
            bool any = false;
            y.CopyTo(probe);
            y.CopyTo(probeDown);
            for (int b = 0; b < blocks; b++)
            {
                int k = b * d + j;
                double scale = Math.Abs(double.CreateTruncating(y[k]));
                if (!(scale > 0) || !double.IsFinite(scale)) scale = 1;
                T offset = T.CreateTruncating(Step * scale);
                probe[k] = y[k] + offset;
                probeDown[k] = y[k] - offset;
                // The perturbation as the dynamics see it, after rounding to T (a unit one if it rounded away).
                double delta = double.CreateTruncating(probe[k] - probeDown[k]);
                if (!(delta > 0) || !double.IsFinite(delta))
                {
                    offset = T.CreateTruncating(Step);
                    probe[k] = y[k] + offset;
                    probeDown[k] = y[k] - offset;
                    delta = double.CreateTruncating(probe[k] - probeDown[k]);
                }
                for (int i = 0; i < d; i++)
                {
                    double v = jBar[b * d * d + i * d + j];
                    any |= v != 0;
                    cotangent[b * d + i] = T.CreateTruncating(v / delta);
                }
            }
            if (!any) continue;
            Accumulate(f, t, probe, +1, yBar, thetaBar);
            Accumulate(f, t, probeDown, -1, yBar, thetaBar);
            products += 2;
        }
        return products;
    }

    private int AlongPairs(IDifferentiableDynamics<T> f, double t, ReadOnlySpan<T> y, double[][] lambdas, T[][] us, int pairs, Span<T> yBar, Span<T> thetaBar)
    {
        double yNorm = 0;
        int products = 0;
        for (int i = 0; i < n; i++) yNorm = Math.Max(yNorm, Math.Abs(double.CreateTruncating(y[i])));
        for (int s = 0; s < pairs; s++)
        {
            T[] u = us[s];
            double uNorm = 0;
            for (int i = 0; i < n; i++) uNorm = Math.Max(uNorm, Math.Abs(double.CreateTruncating(u[i])));
            if (!(uNorm > 0) || !lambdas[s].AsSpan().ContainsAnyExcept(0.0)) continue;
            T epsilon = T.CreateTruncating(Step * (yNorm > 0 ? yNorm : 1) / uNorm);
            double inverse = 1 / (2 * double.CreateTruncating(epsilon));
            for (int i = 0; i < n; i++) cotangent[i] = T.CreateTruncating(lambdas[s][i] * inverse);
            for (int i = 0; i < n; i++) probe[i] = y[i] + epsilon * u[i];
            Accumulate(f, t, probe, +1, yBar, thetaBar);
            for (int i = 0; i < n; i++) probe[i] = y[i] - epsilon * u[i];
            Accumulate(f, t, probe, -1, yBar, thetaBar);
            products += 2;
        }
        return products;
    }

    /// <summary>Adds sign·(∇_y, ∇_θ) of cotangentᵀ·f(t, point) to the accumulators.</summary>
    private void Accumulate(IDifferentiableDynamics<T> f, double t, ReadOnlySpan<T> point, int sign, Span<T> yBar, Span<T> thetaBar)
    {
        f.Vjp(t, point, cotangent, gradY, gradTheta);
        if (sign > 0)
        {
            TensorPrimitives.Add(yBar, gradY, yBar);
            TensorPrimitives.Add(thetaBar, gradTheta, thetaBar);
        }
        else
        {
            TensorPrimitives.Subtract(yBar, gradY, yBar);
            TensorPrimitives.Subtract(thetaBar, gradTheta, thetaBar);
        }
    }

    private void EnsureTheta(IDifferentiableDynamics<T> f)
    {
        if (gradTheta.Length != f.Parameters.Length) gradTheta = new T[f.Parameters.Length];
    }
}
