using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Solvers;

/// <summary>
/// A method written outside the library (Ralston's two-stage explicit method with a Heun-Euler style embedded error
/// estimate), through the public stepper contract only, runs under the plain solve, Backprop, Checkpointed and the
/// adjoint: the next solver family plugs in at one place.
/// </summary>
public class UserWrittenStepperTests
{
    private const int Batch = 3, Width = 2, NetworkSeed = 17;
    private static readonly double[] SavedTimes = [0, 0.3, 0.75, 1];

    [Test]
    public void UserStepper_PlainFixedStepSolve_AgreesWithTheLibrarysRalstonTableau()
    {
        var f = Network();
        double[] y0 = InitialState();
        var saveAt = SaveAt.Times(SavedTimes);
        var mine = Ode.Solve(f, y0, saveAt, new SolveOptions { Stepper = new RalstonFactory(), StepSize = new FixedStep(0.05) });
        var library = Ode.Solve(f, y0, saveAt, new SolveOptions { Method = Tableaus.Ralston, StepSize = new FixedStep(0.05) });
        Assert.That(mine.Stats.AcceptedSteps, Is.EqualTo(library.Stats.AcceptedSteps), "the same grid");
        Assert.That(mine.Stats.FunctionEvaluations, Is.EqualTo(library.Stats.FunctionEvaluations));
        for (int i = 0; i < library.Values.Length; i++)
            Assert.That(mine.Values[i], Is.EqualTo(library.Values[i]).Within(1e-14), $"value {i}");
    }

    [Test]
    public void UserStepper_AdaptiveSolve_ReachesTheClosedFormAndConvergesAsTheToleranceFalls()
    {
        // y' = -2ty, y(0) = 1: y(t) = exp(-t²).
        var f = new FunctionDynamics<double>(1, (t, y, dydt) => dydt[0] = -2 * t * y[0]);
        double previous = double.PositiveInfinity;
        foreach (double rtol in new[] { 1e-3, 1e-5, 1e-7 })
        {
            var solution = Ode.Solve(f, [1.0], SaveAt.End(0, 2), new SolveOptions { Stepper = new RalstonFactory(), RelativeTolerance = rtol, AbsoluteTolerance = rtol * 1e-3 });
            double error = Math.Abs(solution.Values[^1] - Math.Exp(-4));
            Assert.That(error, Is.LessThan(100 * rtol), $"rtol {rtol}");
            Assert.That(error, Is.LessThan(previous), $"rtol {rtol}");
            previous = error;
        }
    }

    [TestCase("backprop")]
    [TestCase("checkpointed")]
    public void UserStepper_FixedStepGradients_MatchFiniteDifferencesOfThePlainSolve(string strategy)
    {
        var options = new SolveOptions { Stepper = new RalstonFactory(), StepSize = new FixedStep(0.05) };
        ISensitivity sensitivity = strategy == "backprop" ? new Backprop() : new Checkpointed { Budget = 3 };
        var (_, gradTheta, gradY0) = LossAndGradients(sensitivity, options);

        var f = Network();
        double[] y0 = InitialState();
        double Loss() => Ode.Solve(f, y0, SaveAt.Times(SavedTimes), options).Values.ToArray().Sum(v => v * v);
        const double eps = 1e-6;
        var theta = f.Parameters.Values;
        foreach (int i in new[] { 0, 5, theta.Length / 2, theta.Length - 1 })
            Assert.That(gradTheta[i], Is.EqualTo(GradientCheck.CentralDifference(theta, i, Loss, eps)).Within(1e-7 + 1e-6 * Math.Abs(gradTheta[i])), $"dL/dθ[{i}]");
        for (int i = 0; i < y0.Length; i++)
            Assert.That(gradY0[i], Is.EqualTo(GradientCheck.CentralDifference(y0, i, Loss, eps)).Within(1e-7 + 1e-6 * Math.Abs(gradY0[i])), $"dL/dy0[{i}]");
    }

    [Test]
    public void UserStepper_AdaptiveGradients_BackpropEqualsCheckpointedWithABudget()
    {
        var options = new SolveOptions { Stepper = new RalstonFactory(), RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-8 };
        var (lossBackprop, gradBackprop, gradY0Backprop) = LossAndGradients(new Backprop(), options);
        var (lossCheckpointed, gradCheckpointed, gradY0Checkpointed) = LossAndGradients(new Checkpointed { Budget = 2 }, options);
        Assert.That(lossCheckpointed, Is.EqualTo(lossBackprop));
        double scale = gradBackprop.Max(Math.Abs);
        for (int i = 0; i < gradBackprop.Length; i++)
            Assert.That(gradCheckpointed[i], Is.EqualTo(gradBackprop[i]).Within(1e-12 * scale), $"dL/dθ[{i}]");
        for (int i = 0; i < gradY0Backprop.Length; i++)
            Assert.That(gradY0Checkpointed[i], Is.EqualTo(gradY0Backprop[i]).Within(1e-12), $"dL/dy0[{i}]");
    }

    [Test]
    public void UserStepper_Adjoint_ApproachesTheDiscreteGradientAsTheStepFalls()
    {
        // Both are second-order approximations of the exact gradient: their gap shrinks about 4x per halving of h.
        double Gap(double h)
        {
            var options = new SolveOptions { Stepper = new RalstonFactory(), StepSize = new FixedStep(h) };
            var (_, backprop, _) = LossAndGradients(new Backprop(), options);
            var (_, adjoint, _) = LossAndGradients(new Adjoint(), options);
            return backprop.Zip(adjoint, (a, b) => Math.Abs(a - b)).Max() / backprop.Max(Math.Abs);
        }
        double coarse = Gap(0.05), fine = Gap(0.025);
        Assert.That(coarse, Is.LessThan(1e-2));
        Assert.That(fine / coarse, Is.InRange(0.15, 0.4), $"gap {coarse:E2} -> {fine:E2}");
    }

    [Test]
    public void UserStepper_WithoutAVjp_IsRefusedByBackpropNamingTheStepper()
    {
        var options = new SolveOptions { Stepper = new RalstonFactory(differentiable: false), StepSize = new FixedStep(0.1) };
        var error = Assert.Throws<ArgumentException>(() => LossAndGradients(new Backprop(), options));
        Assert.That(error!.ParamName, Is.EqualTo("options"));
        Assert.That(error.Message, Does.Contain("IDifferentiableStepper"));
    }

    [Test]
    public void UserStepper_IsRefusedByTheReversibleStrategies()
    {
        var options = new SolveOptions { Stepper = new RalstonFactory(), StepSize = new FixedStep(0.1) };
        var error = Assert.Throws<ArgumentException>(() => LossAndGradients(new Reversible(), options));
        Assert.That(error!.Message, Does.Contain("options.Stepper"));
    }

    [Test]
    public void UserStepper_OfTheWrongDimension_IsRefusedNamingBothSizes()
    {
        var f = Network();
        var options = new SolveOptions { Stepper = new RalstonFactory(extra: 1), StepSize = new FixedStep(0.1) };
        var error = Assert.Throws<ArgumentException>(() => Ode.Solve(f, InitialState(), SaveAt.End(0, 1), options));
        Assert.That(error!.Message, Does.Contain($"Dimension {Batch * Width + 1}").And.Contain($"must be {Batch * Width}"));
    }

    private static MlpDynamics<double> Network() =>
        new(Mlp.Create<double>(Width, [8], Width, Activation.Tanh, TimeInput.Concat, NetworkSeed), Batch);

    private static double[] InitialState() => [.. Enumerable.Range(0, Batch * Width).Select(i => Math.Cos(1.3 * i) * 0.9)];

    /// <summary>L = Σ y(t_i)² over the saved times, through OdeLayer.</summary>
    private static (double Loss, double[] GradTheta, double[] GradY0) LossAndGradients(ISensitivity sensitivity, SolveOptions options)
    {
        var f = Network();
        var tape = new Tape<double>();
        var x = tape.Variable(InitialState(), new Shape(Batch, Width));
        var solve = OdeLayer.Solve(tape, f, x, SaveAt.Times(SavedTimes), options, sensitivity);
        var loss = Ops.Sum(Ops.Square(solve.States));
        f.Parameters.ZeroGradients();
        tape.Backward(loss);
        return (loss.Value[0], f.Parameters.Gradients.ToArray(), x.Gradient.ToArray());
    }

    private sealed class RalstonFactory(bool differentiable = true, int extra = 0) : IStepperFactory
    {
        public IStepper<T> Create<T>(int dimension)
            where T : unmanaged, IFloatingPointIeee754<T> =>
            differentiable ? new RalstonStepper<T>(dimension + extra) : new PlainRalston<T>(dimension + extra);
    }

    /// <summary>The same method without a VJP.</summary>
    private sealed class PlainRalston<T>(int n) : RalstonBase<T>(n)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// Ralston: k1 = f(t, y0), k2 = f(t + 2h/3, y0 + 2h/3·k1), y1 = y0 + h(k1/4 + 3k2/4); the error estimate is the
    /// difference from Euler, h(3/4)(k2 − k1), so the controller runs it as a 2(1) pair. Its VJP pulls ȳ1 back through
    /// k2 and then k1 with f's own VJP.
    /// </summary>
    private sealed class RalstonStepper<T>(int n) : RalstonBase<T>(n), IDifferentiableStepper<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T[] k1Bar = new T[n], k2Bar = new T[n], zBar = new T[n];
        private T[] stepTheta = [];

        public int StepVjp(IDifferentiableDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, ReadOnlySpan<T> y1Bar, Span<T> y0Bar, Span<T> thetaBar)
        {
            double h = input.StepSize;
            T a = T.CreateTruncating(2 * h / 3), w1 = T.CreateTruncating(h / 4), w2 = T.CreateTruncating(3 * h / 4);
            // Recompute the stages the forward took.
            f.Evaluate(input.Time, y0, K1);
            for (int i = 0; i < Dimension; i++) Z[i] = y0[i] + a * K1[i];
            if (stepTheta.Length != thetaBar.Length) stepTheta = new T[thetaBar.Length];
            for (int i = 0; i < Dimension; i++) k2Bar[i] = w2 * y1Bar[i];
            f.Vjp(input.Time + 2 * h / 3, Z, k2Bar, zBar, stepTheta);
            for (int i = 0; i < thetaBar.Length; i++) thetaBar[i] += stepTheta[i];
            for (int i = 0; i < Dimension; i++)
            {
                y0Bar[i] += y1Bar[i] + zBar[i];
                k1Bar[i] = w1 * y1Bar[i] + a * zBar[i];
            }
            f.Vjp(input.Time, y0, k1Bar, zBar, stepTheta);
            for (int i = 0; i < thetaBar.Length; i++) thetaBar[i] += stepTheta[i];
            for (int i = 0; i < Dimension; i++) y0Bar[i] += zBar[i];
            return 2;
        }
    }

    private abstract class RalstonBase<T>(int n) : IStepper<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        protected readonly T[] K1 = new T[n], K2 = new T[n], Z = new T[n];

        public int Dimension => n;
        public int OutputDimension => n;
        public int ControllerOrder => 2;
        public bool HasErrorEstimate => true;
        public bool TakesStartDerivative => true;
        public bool ProvidesEndDerivative => false;
        public bool HasInterpolation => false;
        public long FunctionEvaluations { get; set; }
        public ReadOnlySpan<T> StartDerivative => K1;
        public ReadOnlySpan<T> EndDerivative => default;

        public StepOutcome Step(IDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0, Span<T> y1, Span<T> error)
        {
            double h = input.StepSize;
            int evaluations = 0;
            bool supplied = !f0.IsEmpty;
            if (supplied) f0.CopyTo(K1);
            else { f.Evaluate(input.Time, y0, K1); evaluations++; }
            T a = T.CreateTruncating(2 * h / 3), w1 = T.CreateTruncating(h / 4), w2 = T.CreateTruncating(3 * h / 4);
            for (int i = 0; i < n; i++) Z[i] = y0[i] + a * K1[i];
            f.Evaluate(input.Time + 2 * h / 3, Z, K2);
            evaluations++;
            for (int i = 0; i < n; i++)
            {
                y1[i] = y0[i] + (w1 * K1[i] + w2 * K2[i]);
                if (!error.IsEmpty) error[i] = w2 * (K2[i] - K1[i]);
            }
            FunctionEvaluations += evaluations;
            return new StepOutcome(evaluations, supplied, false);
        }

        public void Interpolate(ReadOnlySpan<T> y0, double h, double theta, Span<T> destination) =>
            throw new NotSupportedException("Ralston here has no continuous extension; the loop uses cubic Hermite.");
    }
}
