using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>The stepper of <see cref="Rosenbrock23"/> (see there for the formulas).</summary>
internal sealed class Rosenbrock23Stepper<T> : LinearlyImplicitStepper<T>, IDifferentiableStepper<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly double D = 1 / (2 + Math.Sqrt(2));
    private static readonly double E32 = 6 + Math.Sqrt(2);

    private readonly double[] rhs, timeDerivative;
    private readonly T[] f0, f1, f2, k1, k2, k3, probe;
    // The gradient's buffers, made by its first step VJP.
    private double[][] lambdas = [];
    private T[][] directions = [];
    private double[] bar = [], timeBar = [];
    private T[] cotangent = [], gradY = [], gradTheta = [], y1Recomputed = [];
    private JacobianCurvature<T>? curvature;

    public Rosenbrock23Stepper(int n)
        : base(n)
    {
        timeDerivative = system.TimeDerivative;
        rhs = new double[n];
        f0 = system.F0;
        f1 = new T[n];
        f2 = new T[n];
        k1 = new T[n];
        k2 = new T[n];
        k3 = new T[n];
        probe = new T[n];
    }

    // Embedded orders 2 and 3: the lower plus one.
    public int ControllerOrder => 3;

    public bool ProvidesEndDerivative => true;

    public bool HasInterpolation => true;

    public ReadOnlySpan<T> EndDerivative => f2;

    public StepOutcome Step(IDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0In, Span<T> y1, Span<T> error)
    {
        double t = input.Time, h = input.StepSize, t1 = input.EndTime;
        bool supplied = !f0In.IsEmpty;
        // W = I − h·d·J, factored; a singular or non-finite W rejects the step.
        int evaluations = system.Prepare(f, t, h, D, y0, f0In, out bool factored);
        double hd = h * D;
        if (!factored)
        {
            Reject(y0, y1, error);
            FunctionEvaluations += evaluations;
            return new StepOutcome(evaluations, supplied, false) { Rejection = StepRejection.SingularMatrix };
        }

        // k1 = W⁻¹(f0 + h·d·T)
        for (int i = 0; i < n; i++) rhs[i] = double.CreateTruncating(f0[i]) + hd * timeDerivative[i];
        evaluations += Solve(k1);
        // f1 = f(t + h/2, y0 + (h/2)·k1); k2 = W⁻¹(f1 − k1) + k1
        T half = T.CreateTruncating(0.5 * h);
        for (int i = 0; i < n; i++) probe[i] = y0[i] + half * k1[i];
        f.Evaluate(t + 0.5 * h, probe, f1);
        for (int i = 0; i < n; i++) rhs[i] = double.CreateTruncating(f1[i]) - double.CreateTruncating(k1[i]);
        evaluations += Solve(k2);
        for (int i = 0; i < n; i++) k2[i] += k1[i];
        // y1 = y0 + h·k2; f2 = f(t1, y1)
        T hT = T.CreateTruncating(h);
        for (int i = 0; i < n; i++) y1[i] = y0[i] + hT * k2[i];
        f.Evaluate(t1, y1, f2);
        evaluations += 2;
        if (!error.IsEmpty)
        {
            // k3 = W⁻¹(f2 − e32·(k2 − f1) − 2(k1 − f0) + h·d·T); error = (h/6)(k1 − 2k2 + k3)
            for (int i = 0; i < n; i++)
            {
                rhs[i] = double.CreateTruncating(f2[i]) - E32 * (double.CreateTruncating(k2[i]) - double.CreateTruncating(f1[i]))
                    - 2 * (double.CreateTruncating(k1[i]) - double.CreateTruncating(f0[i])) + hd * timeDerivative[i];
            }
            evaluations += Solve(k3);
            T sixth = T.CreateTruncating(h / 6);
            T two = T.One + T.One;
            for (int i = 0; i < n; i++) error[i] = sixth * (k1[i] - two * k2[i] + k3[i]);
        }
        FunctionEvaluations += evaluations;
        return new StepOutcome(evaluations, supplied, true);
    }

    public void Interpolate(ReadOnlySpan<T> y0, double h, double theta, Span<T> destination)
    {
        // y(t0 + θh) = y0 + h·(θ(1 − θ)·k1 + θ(θ − 2d)·k2)/(1 − 2d), from the last step's k1 and k2.
        T a = T.CreateTruncating(h * theta * (1 - theta) / (1 - 2 * D));
        T b = T.CreateTruncating(h * theta * (theta - 2 * D) / (1 - 2 * D));
        for (int i = 0; i < n; i++) destination[i] = y0[i] + a * k1[i] + b * k2[i];
    }

    /// <summary>
    /// The step's exact discrete vector–Jacobian product, J and ∂f/∂t taken as the exact derivatives at (t, y0). y1 =
    /// y0 + h·k2 with k2 = W⁻¹(f1 − k1) + k1 and k1 = W⁻¹(f0 + h·d·∂f/∂t), W = I − h·d·J: each W⁻¹ becomes a transposed
    /// solve λ = W⁻ᵀ·x̄, and each contributes h·d·λ·xᵀ to J̄ (the second-order term of <see cref="JacobianCurvature{T}"/>).
    /// The error estimate's third stage is not differentiated.
    /// </summary>
    public int StepVjp(IDifferentiableDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, ReadOnlySpan<T> y1Bar, Span<T> y0Bar, Span<T> thetaBar)
    {
        EnsureGradientBuffers(f);
        int evaluations = StepVjpSupport.Recompute(this, f, input, y0, y1Recomputed);
        double t = input.Time, h = input.StepSize, hd = h * D;
        // k̄2 = h·ȳ1; x2 = W⁻¹(f1 − k1) = k2 − k1, λ2 = W⁻ᵀ·k̄2 is the cotangent of f1 − k1.
        StepVjpSupport.Accumulate(y1Bar, y0Bar);
        double[] lambda2 = lambdas[1], lambda1 = lambdas[0];
        for (int i = 0; i < n; i++) lambda2[i] = h * double.CreateTruncating(y1Bar[i]);
        lambda2.CopyTo(bar, 0);
        system.SolveTransposed(lambda2);
        for (int i = 0; i < n; i++) directions[1][i] = k2[i] - k1[i];
        // f1 = f(t + h/2, y0 + (h/2)·k1).
        for (int i = 0; i < n; i++) cotangent[i] = T.CreateTruncating(lambda2[i]);
        T half = T.CreateTruncating(0.5 * h);
        for (int i = 0; i < n; i++) probe[i] = y0[i] + half * k1[i];
        f.Vjp(t + 0.5 * h, probe, cotangent, gradY, gradTheta);
        evaluations++;
        StepVjpSupport.Accumulate(gradY, y0Bar);
        StepVjpSupport.Accumulate(gradTheta, thetaBar);
        // k̄1 = k̄2 − λ2 + (h/2)·p̄; λ1 = W⁻ᵀ·k̄1 is the cotangent of f0 + h·d·∂f/∂t.
        for (int i = 0; i < n; i++) lambda1[i] = bar[i] - lambda2[i] + 0.5 * h * double.CreateTruncating(gradY[i]);
        system.SolveTransposed(lambda1);
        k1.CopyTo(directions[0], 0);
        for (int i = 0; i < n; i++) cotangent[i] = T.CreateTruncating(lambda1[i]);
        f.Vjp(t, y0, cotangent, gradY, gradTheta);
        evaluations++;
        StepVjpSupport.Accumulate(gradY, y0Bar);
        StepVjpSupport.Accumulate(gradTheta, thetaBar);
        for (int i = 0; i < n; i++) timeBar[i] = hd * lambda1[i];
        // J̄ = h·d·(λ1·k1ᵀ + λ2·x2ᵀ).
        for (int i = 0; i < n; i++)
        {
            lambda1[i] *= hd;
            lambda2[i] *= hd;
        }
        evaluations += curvature!.AddJacobianTerm(f, t, y0, lambdas, directions, 2, y0Bar, thetaBar);
        evaluations += curvature.AddTimeTerm(f, t, h, y0, timeBar, y0Bar, thetaBar);
        return evaluations;
    }

    private void EnsureGradientBuffers(IDifferentiableDynamics<T> f)
    {
        if (curvature is null)
        {
            curvature = new JacobianCurvature<T>(n);
            lambdas = [new double[n], new double[n]];
            directions = [new T[n], new T[n]];
            bar = new double[n];
            timeBar = new double[n];
            cotangent = new T[n];
            gradY = new T[n];
            y1Recomputed = new T[n];
        }
        if (gradTheta.Length != f.Parameters.Length) gradTheta = new T[f.Parameters.Length];
    }

    /// <summary>destination = W⁻¹·rhs; returns the evaluations of f the solve made (a quadrature tail's product).</summary>
    private int Solve(Span<T> destination)
    {
        int evaluations = system.Solve(rhs);
        for (int i = 0; i < n; i++) destination[i] = T.CreateTruncating(rhs[i]);
        return evaluations;
    }

    private void Reject(ReadOnlySpan<T> y0, Span<T> y1, Span<T> error)
    {
        y0.CopyTo(y1);
        error.Fill(T.NaN);
        f0.CopyTo(f2);
    }
}
