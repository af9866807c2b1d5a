using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>The stepper of <see cref="Rosenbrock"/>: any <see cref="RosenbrockTableau"/>, one Jacobian and one LU per step.</summary>
internal sealed class RosenbrockStepper<T> : LinearlyImplicitStepper<T>, IDifferentiableStepper<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly RosenbrockTableau tableau;
    private readonly int stages;
    private readonly double[] rhs;
    private readonly T[][] u;
    private readonly T[] f0, stageState, stageDerivative, y1Copy;
    private bool denseReady;
    private readonly T[][] denseTerms;
    // The gradient's buffers, made by its first step VJP.
    private double[][] uBar = [], lambda = [];
    private double[] timeBar = [];
    private T[] cotangent = [], gradY = [], gradTheta = [], y1Recomputed = [];
    private JacobianCurvature<T>? curvature;

    public RosenbrockStepper(RosenbrockTableau tableau, int n)
        : base(n)
    {
        this.tableau = tableau;
        stages = tableau.Stages;
        rhs = new double[n];
        u = new T[stages][];
        for (int i = 0; i < stages; i++) u[i] = new T[n];
        f0 = system.F0;
        stageState = new T[n];
        stageDerivative = new T[n];
        y1Copy = new T[n];
        denseTerms = new T[tableau.DenseRows][];
        for (int r = 0; r < denseTerms.Length; r++) denseTerms[r] = new T[n];
    }

    // The lower order of the embedded pair plus one.
    public int ControllerOrder => Math.Min(tableau.Order, tableau.EmbeddedOrder) + 1;

    public bool ProvidesEndDerivative => false;

    public bool HasInterpolation => tableau.DenseOrder > 0;

    public ReadOnlySpan<T> EndDerivative => default;

    public StepOutcome Step(IDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0In, Span<T> y1, Span<T> error)
    {
        double t = input.Time, h = input.StepSize;
        bool supplied = !f0In.IsEmpty;
        denseReady = false;
        // I − hγJ, factored once for every stage; a singular or non-finite matrix rejects the step.
        int evaluations = system.Prepare(f, t, h, tableau.Gamma, y0, f0In, out bool factored);
        double hg = h * tableau.Gamma;
        double[] timeDerivative = system.TimeDerivative;
        if (!factored)
        {
            y0.CopyTo(y1);
            error.Fill(T.NaN);
            FunctionEvaluations += evaluations;
            return new StepOutcome(evaluations, supplied, false) { Rejection = StepRejection.SingularMatrix };
        }

        ReadOnlySpan<double> c = tableau.C, d = tableau.D;
        for (int s = 0; s < stages; s++)
        {
            ReadOnlySpan<T> fs = f0;
            if (s > 0)
            {
                // Y_s = y0 + Σ_{j<s} a_sj u_j, then f(t + c_s h, Y_s).
                Combine(y0, tableau.A(s), stageState);
                f.Evaluate(ExplicitRungeKutta<T>.StageTimeFor(t, h, c[s], false, input.EndStageBeforeStepEnd), stageState, stageDerivative);
                evaluations++;
                fs = stageDerivative;
            }
            // (I − hγJ)·u_s = hγ·(f_s + Σ_{j<s} (C_sj/h)·u_j + h·d_s·∂f/∂t)
            double hd = h * d[s];
            for (int i = 0; i < n; i++) rhs[i] = double.CreateTruncating(fs[i]) + hd * timeDerivative[i];
            ReadOnlySpan<double> cs = tableau.CMatrix(s);
            for (int j = 0; j < s; j++)
            {
                if (cs[j] == 0) continue;
                double cj = cs[j] / h;
                T[] uj = u[j];
                for (int i = 0; i < n; i++) rhs[i] += cj * double.CreateTruncating(uj[i]);
            }
            evaluations += system.Solve(rhs);
            T[] us = u[s];
            for (int i = 0; i < n; i++) us[i] = T.CreateTruncating(hg * rhs[i]);
        }
        FunctionEvaluations += evaluations;

        Combine(y0, tableau.M, y1);
        if (!error.IsEmpty) Combine(default, tableau.MError, error);
        y1.CopyTo(y1Copy);
        return new StepOutcome(evaluations, supplied, false);
    }

    public void Interpolate(ReadOnlySpan<T> y0, double h, double theta, Span<T> destination)
    {
        // y(t0 + θh) = (1 − θ)·y0 + θ·(y1 + (1 − θ)·(K_1 + θ·(K_2 + θ·K_3 …))), K_r = Σ_j H_rj u_j of the last step.
        if (!denseReady)
        {
            for (int r = 0; r < denseTerms.Length; r++) Combine(default, tableau.Dense(r), denseTerms[r]);
            denseReady = true;
        }
        T th = T.CreateTruncating(theta), one = T.One;
        int rows = denseTerms.Length;
        for (int i = 0; i < n; i++)
        {
            T inner = denseTerms[rows - 1][i];
            for (int r = rows - 2; r >= 0; r--) inner = denseTerms[r][i] + th * inner;
            destination[i] = (one - th) * y0[i] + th * (y1Copy[i] + (one - th) * inner);
        }
    }

    /// <summary>
    /// The step's exact discrete vector–Jacobian product, J and ∂f/∂t taken as the exact derivatives at (t, y0) (the
    /// forward's differences approximate them). With M = I − hγJ and r_s the right side of stage s (M·u_s = hγ·r_s),
    /// reverse mode gives λ_s = hγ·M⁻ᵀ·ū_s, one transposed solve with the forward's factorisation; λ_s then flows to
    /// f(Y_s) (a VJP at the stage), to the earlier u_j through C and A, to ∂f/∂t through h·d_s, and to J as the rank-one
    /// term λ_s·u_sᵀ, whose dependence on y0 and θ is the second-order term of <see cref="JacobianCurvature{T}"/>.
    /// </summary>
    public int StepVjp(IDifferentiableDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, ReadOnlySpan<T> y1Bar, Span<T> y0Bar, Span<T> thetaBar)
    {
        EnsureGradientBuffers(f);
        int evaluations = StepVjpSupport.Recompute(this, f, input, y0, y1Recomputed);
        double t = input.Time, h = input.StepSize, hg = h * tableau.Gamma;
        ReadOnlySpan<double> m = tableau.M, d = tableau.D, c = tableau.C;
        for (int s = 0; s < stages; s++)
        {
            double ms = s < m.Length ? m[s] : 0;
            double[] bar = uBar[s];
            for (int i = 0; i < n; i++) bar[i] = ms * double.CreateTruncating(y1Bar[i]);
        }
        StepVjpSupport.Accumulate(y1Bar, y0Bar);
        Array.Clear(timeBar);
        for (int s = stages - 1; s >= 0; s--)
        {
            double[] lam = lambda[s];
            uBar[s].CopyTo(lam, 0);
            system.SolveTransposed(lam);
            for (int i = 0; i < n; i++) lam[i] *= hg;
            ReadOnlySpan<double> cs = tableau.CMatrix(s);
            for (int j = 0; j < s && j < cs.Length; j++)
            {
                if (cs[j] == 0) continue;
                double cj = cs[j] / h;
                double[] bar = uBar[j];
                for (int i = 0; i < n; i++) bar[i] += cj * lam[i];
            }
            if (d[s] != 0)
            {
                double hd = h * d[s];
                for (int i = 0; i < n; i++) timeBar[i] += hd * lam[i];
            }
            if (s == 0) continue;
            // f(t_s, Y_s), Y_s = y0 + Σ_{j<s} a_sj u_j.
            Combine(y0, tableau.A(s), stageState);
            for (int i = 0; i < n; i++) cotangent[i] = T.CreateTruncating(lam[i]);
            f.Vjp(ExplicitRungeKutta<T>.StageTimeFor(t, h, c[s], false, input.EndStageBeforeStepEnd), stageState, cotangent, gradY, gradTheta);
            evaluations++;
            StepVjpSupport.Accumulate(gradY, y0Bar);
            StepVjpSupport.Accumulate(gradTheta, thetaBar);
            ReadOnlySpan<double> a = tableau.A(s);
            for (int j = 0; j < a.Length; j++)
            {
                if (a[j] == 0) continue;
                double[] bar = uBar[j];
                for (int i = 0; i < n; i++) bar[i] += a[j] * double.CreateTruncating(gradY[i]);
            }
        }
        // The first stage is f(t, y0) itself.
        for (int i = 0; i < n; i++) cotangent[i] = T.CreateTruncating(lambda[0][i]);
        f.Vjp(t, y0, cotangent, gradY, gradTheta);
        evaluations++;
        StepVjpSupport.Accumulate(gradY, y0Bar);
        StepVjpSupport.Accumulate(gradTheta, thetaBar);
        evaluations += curvature!.AddJacobianTerm(f, t, y0, lambda, u, stages, y0Bar, thetaBar);
        evaluations += curvature.AddTimeTerm(f, t, h, y0, timeBar, y0Bar, thetaBar);
        return evaluations;
    }

    private void EnsureGradientBuffers(IDifferentiableDynamics<T> f)
    {
        if (curvature is null)
        {
            curvature = new JacobianCurvature<T>(n);
            uBar = new double[stages][];
            lambda = new double[stages][];
            for (int s = 0; s < stages; s++)
            {
                uBar[s] = new double[n];
                lambda[s] = new double[n];
            }
            timeBar = new double[n];
            cotangent = new T[n];
            gradY = new T[n];
            y1Recomputed = new T[n];
        }
        if (gradTheta.Length != f.Parameters.Length) gradTheta = new T[f.Parameters.Length];
    }

    /// <summary>destination = start + Σ_j weights_j u_j over the given weights (start empty: zero).</summary>
    private void Combine(ReadOnlySpan<T> start, ReadOnlySpan<double> weights, Span<T> destination)
    {
        if (start.IsEmpty) destination[..n].Clear();
        else start.CopyTo(destination);
        for (int j = 0; j < weights.Length; j++)
        {
            if (weights[j] == 0) continue;
            T wj = T.CreateTruncating(weights[j]);
            T[] uj = u[j];
            for (int i = 0; i < n; i++) destination[i] += wj * uj[i];
        }
    }
}
