using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>The stepper of <see cref="Esdirk"/>: any <see cref="EsdirkTableau"/>, one Jacobian and one LU per step, simplified Newton per stage.</summary>
internal sealed class EsdirkStepper<T> : LinearlyImplicitStepper<T>, IDifferentiableStepper<T>, IStepperStatistics
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly EsdirkTableau tableau;
    private readonly Esdirk method;
    private readonly int stages;
    // atol and rtol per component (expanded once: no interface call per element in the Newton loop).
    private readonly double[] atol, rtol;
    private readonly double[] delta;
    private readonly T[][] k;
    private readonly T[] f0, fEnd, baseState, stage, stageDerivative;
    // The converged stages Y_s of the last step (Y_0 = y0 is not kept): what the step's VJP linearises about.
    private readonly T[][] stageStates;
    // The gradient's: the exact Jacobian at each stage, its own factorisation, and the cotangents (made by the first VJP).
    private LinearlyImplicitSystem<T>? stageSystem;
    private ExactJacobian<T>? exactJacobian;
    private double[][] kBar = [];
    private double[] mu = [];
    private T[] cotangent = [], gradY = [], gradTheta = [], y1Recomputed = [];
    // Hairer's η of the last converged stage, carried into the next stage's first iteration (Radau5's FACCON) within a
    // step, and reset at each step's start: the step is then a function of its start state alone, as recomputing it
    // for a gradient (Checkpointed, a step VJP) requires.
    private double eta = 1;

    public EsdirkStepper(Esdirk method, int n, StepperTolerances tolerances)
        : base(n)
    {
        this.method = method;
        tableau = method.Tableau;
        stages = tableau.Stages;
        atol = new double[n];
        rtol = new double[n];
        for (int i = 0; i < n; i++)
        {
            atol[i] = tolerances.Absolute[tolerances.Absolute.Count == 1 ? 0 : i];
            rtol[i] = tolerances.Relative[tolerances.Relative.Count == 1 ? 0 : i];
        }
        delta = new double[n];
        k = new T[stages][];
        for (int i = 0; i < stages; i++) k[i] = new T[n];
        f0 = system.F0;
        fEnd = new T[n];
        baseState = new T[n];
        stage = new T[n];
        stageDerivative = new T[n];
        stageStates = new T[stages][];
        for (int i = 1; i < stages; i++) stageStates[i] = new T[n];
    }

    public int ControllerOrder => Math.Min(tableau.Order, tableau.EmbeddedOrder) + 1;

    public bool ProvidesEndDerivative => true;

    public bool HasInterpolation => false;

    /// <summary>Newton iterations of the implicit stages since the counter was last reset.</summary>
    public long NewtonIterations { get; set; }

    public ReadOnlySpan<T> EndDerivative => fEnd;

    public StepOutcome Step(IDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0In, Span<T> y1, Span<T> error)
    {
        double t = input.Time, h = input.StepSize, hg = h * tableau.Gamma;
        bool supplied = !f0In.IsEmpty;
        eta = 1;
        int evaluations = system.Prepare(f, t, h, tableau.Gamma, y0, f0In, timeDerivative: false, out bool factored);
        if (!factored) return Reject(y0, y1, error, evaluations, supplied, StepRejection.SingularMatrix);
        f0.CopyTo(k[0]);
        ReadOnlySpan<double> c = tableau.C;
        T hT = T.CreateTruncating(h);
        for (int s = 1; s < stages; s++)
        {
            // base = y0 + h·Σ_{j<s} a_sj k_j; the stage solves Y = base + hγ·f(t_s, Y).
            Combine(y0, tableau.A(s), h, baseState);
            if (tableau.HasPredictor) Combine(y0, tableau.Predictor(s), h, stage);
            else
            {
                T ch = T.CreateTruncating(c[s] * h);
                for (int i = 0; i < n; i++) stage[i] = y0[i] + ch * f0[i];
            }
            double ts = ExplicitRungeKutta<T>.StageTimeFor(t, h, c[s], false, input.EndStageBeforeStepEnd);
            if (!Newton(f, ts, hg, y0, ref evaluations))
                return Reject(y0, y1, error, evaluations, supplied, StepRejection.NewtonDidNotConverge);
            // k_s from the converged stage, (Y − base)/(hγ): exact for the stage equation, without one more evaluation.
            T inverse = T.CreateTruncating(1 / hg);
            T[] ks = k[s];
            for (int i = 0; i < n; i++) ks[i] = (stage[i] - baseState[i]) * inverse;
            stage.CopyTo(stageStates[s], 0);
        }
        // Stiffly accurate: y1 is the last stage. f(t1, y1) is the next step's first stage and Hermite's end slope.
        stage.CopyTo(y1);
        f.Evaluate(input.EndTime, y1, fEnd);
        evaluations++;
        fEnd.CopyTo(k[stages - 1]);
        if (!error.IsEmpty)
        {
            error[..n].Clear();
            ReadOnlySpan<double> e = tableau.BError;
            for (int j = 0; j < stages; j++)
            {
                if (e[j] == 0) continue;
                T w = hT * T.CreateTruncating(e[j]);
                T[] kj = k[j];
                for (int i = 0; i < n; i++) error[i] += w * kj[i];
            }
            if (tableau.FilterError)
            {
                // Shampine's filter: (I − hγJ)⁻¹ applied to the raw estimate, with the step's own factorisation.
                for (int i = 0; i < n; i++) delta[i] = double.CreateTruncating(error[i]);
                evaluations += system.Solve(delta);
                for (int i = 0; i < n; i++) error[i] = T.CreateTruncating(delta[i]);
            }
        }
        FunctionEvaluations += evaluations;
        return new StepOutcome(evaluations, supplied, true);
    }

    public void Interpolate(ReadOnlySpan<T> y0, double h, double theta, Span<T> destination) =>
        throw new NotSupportedException("ESDIRK steps are interpolated by the loop (cubic Hermite).");

    /// <summary>
    /// Simplified Newton on G(Y) = Y − base − hγ·f(t_s, Y) from the starting guess in <c>stage</c>, with Hairer and
    /// Wanner's convergence test (Solving ODEs II, §IV.8): the rate θ_k = ‖ΔY_k‖/‖ΔY_{k−1}‖ must stay below 1, and the
    /// iteration stops once η·‖ΔY‖ ≤ κ, η = θ/(1 − θ), in the controller's tolerance units. False: diverging or too slow.
    /// </summary>
    private bool Newton(IDynamics<T> f, double ts, double hg, ReadOnlySpan<T> y0, ref int evaluations)
    {
        double previous = 0;
        double localEta = Math.Pow(Math.Max(eta, 1e-16), 0.8);
        for (int iteration = 0; iteration < method.MaxNewtonIterations; iteration++)
        {
            f.Evaluate(ts, stage, stageDerivative);
            evaluations++;
            NewtonIterations++;
            for (int i = 0; i < n; i++)
            {
                double residual = double.CreateTruncating(stage[i] - baseState[i]) - hg * double.CreateTruncating(stageDerivative[i]);
                delta[i] = -residual;
            }
            evaluations += system.Solve(delta);
            double norm = 0;
            for (int i = 0; i < n; i++)
            {
                stage[i] += T.CreateTruncating(delta[i]);
                double scale = atol[i] + rtol[i] * Math.Max(Math.Abs(double.CreateTruncating(y0[i])), Math.Abs(double.CreateTruncating(stage[i])));
                double r = scale > 0 ? delta[i] / scale : (delta[i] == 0 ? 0 : double.PositiveInfinity);
                norm += r * r;
            }
            norm = Math.Sqrt(norm / n);
            if (!double.IsFinite(norm)) return false;
            if (iteration > 0)
            {
                double theta = norm / previous;
                // Not contracting: diverging, unless the updates are already within κ and only round-off is left.
                if (theta >= 0.99) return norm <= method.NewtonTolerance;
                localEta = theta / (1 - theta);
            }
            previous = norm;
            if (localEta * norm <= method.NewtonTolerance || norm == 0)
            {
                eta = localEta;
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The step's discrete vector–Jacobian product by the implicit function theorem: each stage Y_s = base_s + hγ·f(t_s, Y_s)
    /// is taken as solved exactly, so dY_s = M_s⁻¹·(dbase_s + hγ·∂f/∂θ·dθ) with M_s = I − hγ·J(t_s, Y_s), and the
    /// cotangent μ_s = M_s⁻ᵀ·Ȳ_s is one transposed solve with the exact Jacobian at the converged stage (from D
    /// vector–Jacobian products, block-diagonal for independent rows); the Newton iterations, the predictor and the
    /// frozen Jacobian they used are never differentiated. k_s = f(t_s, Y_s) feeds the later stages' bases.
    /// </summary>
    public int StepVjp(IDifferentiableDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, ReadOnlySpan<T> y1Bar, Span<T> y0Bar, Span<T> thetaBar)
    {
        EnsureGradientBuffers(f);
        int evaluations = StepVjpSupport.Recompute(this, f, input, y0, y1Recomputed);
        double t = input.Time, h = input.StepSize, hg = h * tableau.Gamma;
        ReadOnlySpan<double> c = tableau.C;
        for (int s = 0; s < stages; s++) Array.Clear(kBar[s]);
        int blocks = JacobianBlocks.Count(n, f.IndependentRows), d = n / blocks;
        for (int s = stages - 1; s >= 1; s--)
        {
            double ts = ExplicitRungeKutta<T>.StageTimeFor(t, h, c[s], false, input.EndStageBeforeStepEnd);
            T[] ys = stageStates[s];
            // J_s at the converged stage, and I − hγJ_s factored (k_s is f there: no evaluation).
            stageSystem!.Prepare(exactJacobian!, ts, h, tableau.Gamma, ys, k[s], timeDerivative: false, out bool factored);
            evaluations += d;
            if (!factored)
                throw new InvalidOperationException($"I − hγJ at stage {s} of the step from t = {t} with h = {h} is singular or not finite: the implicit function theorem gives no gradient there.");
            // Ȳ_s = ȳ1 (the last stage is y1) + J_sᵀ·k̄_s.
            double[] bar = kBar[s];
            ReadOnlySpan<double> jacobian = stageSystem.Jacobian;
            for (int b = 0; b < blocks; b++)
            {
                int offset = b * d, block = b * d * d;
                for (int j = 0; j < d; j++)
                {
                    double sum = s == stages - 1 ? double.CreateTruncating(y1Bar[offset + j]) : 0;
                    for (int i = 0; i < d; i++) sum += jacobian[block + i * d + j] * bar[offset + i];
                    mu[offset + j] = sum;
                }
            }
            stageSystem.SolveTransposed(mu);
            // θ̄ += ∂f/∂θᵀ·(k̄_s + hγ·μ_s): one VJP at the stage (its y part is already in μ).
            for (int i = 0; i < n; i++) cotangent[i] = T.CreateTruncating(bar[i] + hg * mu[i]);
            f.Vjp(ts, ys, cotangent, gradY, gradTheta);
            evaluations++;
            StepVjpSupport.Accumulate(gradTheta, thetaBar);
            // base_s = y0 + h·Σ_{j<s} a_sj k_j.
            for (int i = 0; i < n; i++) y0Bar[i] += T.CreateTruncating(mu[i]);
            ReadOnlySpan<double> a = tableau.A(s);
            for (int j = 0; j < a.Length; j++)
            {
                if (a[j] == 0) continue;
                double w = h * a[j];
                double[] target = kBar[j];
                for (int i = 0; i < n; i++) target[i] += w * mu[i];
            }
        }
        // k_0 = f(t, y0).
        for (int i = 0; i < n; i++) cotangent[i] = T.CreateTruncating(kBar[0][i]);
        f.Vjp(t, y0, cotangent, gradY, gradTheta);
        evaluations++;
        StepVjpSupport.Accumulate(gradY, y0Bar);
        StepVjpSupport.Accumulate(gradTheta, thetaBar);
        return evaluations;
    }

    private void EnsureGradientBuffers(IDifferentiableDynamics<T> f)
    {
        if (stageSystem is null)
        {
            stageSystem = new LinearlyImplicitSystem<T>(n);
            kBar = new double[stages][];
            for (int s = 0; s < stages; s++) kBar[s] = new double[n];
            mu = new double[n];
            cotangent = new T[n];
            gradY = new T[n];
            y1Recomputed = new T[n];
        }
        if (exactJacobian is null || !exactJacobian.Wraps(f)) exactJacobian = new ExactJacobian<T>(f);
        if (gradTheta.Length != f.Parameters.Length) gradTheta = new T[f.Parameters.Length];
    }

    /// <summary>destination = y0 + h·Σ_j weights_j k_j over the given weights.</summary>
    private void Combine(ReadOnlySpan<T> y0, ReadOnlySpan<double> weights, double h, Span<T> destination)
    {
        y0.CopyTo(destination);
        for (int j = 0; j < weights.Length; j++)
        {
            if (weights[j] == 0) continue;
            T w = T.CreateTruncating(h * weights[j]);
            T[] kj = k[j];
            for (int i = 0; i < n; i++) destination[i] += w * kj[i];
        }
    }

    private StepOutcome Reject(ReadOnlySpan<T> y0, Span<T> y1, Span<T> error, int evaluations, bool supplied, StepRejection why)
    {
        y0.CopyTo(y1);
        error.Fill(T.NaN);
        FunctionEvaluations += evaluations;
        return new StepOutcome(evaluations, supplied, false) { Rejection = why };
    }
}
