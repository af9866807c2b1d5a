using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>The stepper of <see cref="Esdirk"/>: any <see cref="EsdirkTableau"/>, one Jacobian and one LU per step, simplified Newton per stage.</summary>
internal sealed class EsdirkStepper<T> : IStepper<T>, IStepperStatistics, IJacobianBound
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly EsdirkTableau tableau;
    private readonly Esdirk method;
    private readonly int n, stages;
    private readonly LinearlyImplicitSystem<T> system;
    // atol and rtol per component (expanded once: no interface call per element in the Newton loop).
    private readonly double[] atol, rtol;
    private readonly double[] delta;
    private readonly T[][] k;
    private readonly T[] f0, fEnd, baseState, stage, stageDerivative;
    // Hairer's η of the last converged stage, carried into the next stage's first iteration (Radau5's FACCON).
    private double eta = 1;

    public EsdirkStepper(Esdirk method, int n, StepperTolerances tolerances)
    {
        this.method = method;
        tableau = method.Tableau;
        this.n = n;
        stages = tableau.Stages;
        system = new LinearlyImplicitSystem<T>(n);
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
    }

    public int Dimension => n;

    public int OutputDimension => n;

    public int ControllerOrder => Math.Min(tableau.Order, tableau.EmbeddedOrder) + 1;

    public bool HasErrorEstimate => true;

    public bool TakesStartDerivative => true;

    public bool ProvidesEndDerivative => true;

    public bool HasInterpolation => false;

    public long FunctionEvaluations { get; set; }

    public long JacobianEvaluations { get => system.JacobianEvaluations; set => system.JacobianEvaluations = value; }

    public long Factorizations { get => system.Factorizations; set => system.Factorizations = value; }

    public double JacobianNormBound => system.JacobianNormBound();

    /// <summary>Newton iterations of the implicit stages since the counter was last reset.</summary>
    public long NewtonIterations { get; set; }

    public ReadOnlySpan<T> StartDerivative => f0;

    public ReadOnlySpan<T> EndDerivative => fEnd;

    public void InitializeState(IDynamics<T> f, double t0, ReadOnlySpan<T> y0, Span<T> state)
    {
        system.Invalidate();
        eta = 1;
        y0.CopyTo(state);
    }

    public StepOutcome Step(IDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0In, Span<T> y1, Span<T> error)
    {
        double t = input.Time, h = input.StepSize, hg = h * tableau.Gamma;
        bool supplied = !f0In.IsEmpty;
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
            system.Solve(delta);
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
        eta = 1;
        FunctionEvaluations += evaluations;
        return new StepOutcome(evaluations, supplied, false) { Rejection = why };
    }
}
