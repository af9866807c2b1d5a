using MathNet.Numerics.LinearAlgebra;
using NeuralOde.Core;
using NeuralOde.Core.Solvers;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Solvers;

/// <summary>Adaptive solves agree with closed-form solutions and conserve first integrals to tolerance.</summary>
public class ClosedFormTests
{
    private static readonly SolveOptions Tight = new() { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-12 };

    public static IEnumerable<ButcherTableau> AdaptiveMethods => Tableaus.All.Where(t => t.HasErrorEstimate);

    [TestCaseSource(nameof(AdaptiveMethods))]
    public void ExponentialDecay_MatchesClosedFormAtEveryTime(ButcherTableau method)
    {
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -0.5 * y[0]);
        double[] times = [0, 0.3, 1, 2.5, 4];
        var sol = Ode.Solve(f, [2.0], SaveAt.Times(times), new SolveOptions { Method = method, RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-10 });
        for (int i = 0; i < times.Length; i++)
            Assert.That(sol.States[i][0], Is.EqualTo(2 * Math.Exp(-0.5 * times[i])).Within(1e-5 * Math.Exp(-0.5 * times[i])), $"{method} at t = {times[i]}");
    }

    [Test]
    public void NewtonCooling_ApproachesTheAmbientTemperature()
    {
        const double k = 0.1, ambient = 20, initial = 90;
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = -k * (y[0] - ambient));
        var sol = Ode.Solve(f, [initial], SaveAt.Times(0, 10, 30), Tight);
        foreach (var (t, i) in new[] { (10.0, 1), (30.0, 2) })
            Assert.That(sol.States[i][0], Is.EqualTo(ambient + (initial - ambient) * Math.Exp(-k * t)).Within(1e-8));
    }

    [Test]
    public void HarmonicOscillator_FollowsCosineAndSine()
    {
        const double omega = 2;
        var f = new FuncDynamics<double>(2, (t, y, d) => { d[0] = y[1]; d[1] = -omega * omega * y[0]; });
        var sol = Ode.Solve(f, [1.0, 0.0], SaveAt.Times(0, 1, 5, 10), Tight);
        double[] times = [0, 1, 5, 10];
        for (int i = 0; i < times.Length; i++)
        {
            Assert.That(sol.States[i][0], Is.EqualTo(Math.Cos(omega * times[i])).Within(1e-8));
            Assert.That(sol.States[i][1], Is.EqualTo(-omega * Math.Sin(omega * times[i])).Within(2e-8));
        }
    }

    [Test]
    public void LogisticGrowth_MatchesClosedForm()
    {
        const double r = 0.8, capacity = 10, y0 = 0.5;
        var f = new FuncDynamics<double>(1, (t, y, d) => d[0] = r * y[0] * (1 - y[0] / capacity));
        var sol = Ode.Solve(f, [y0], SaveAt.Times(0, 2, 5, 10), Tight);
        double[] times = [0, 2, 5, 10];
        for (int i = 0; i < times.Length; i++)
            Assert.That(sol.States[i][0], Is.EqualTo(capacity / (1 + (capacity / y0 - 1) * Math.Exp(-r * times[i]))).Within(1e-8));
    }

    [Test]
    public void LinearSystem_MatchesTheMatrixExponential()
    {
        // A = V·Λ·V⁻¹ from chosen eigenvalues, so y(t) = V·diag(e^{λt})·V⁻¹·y0 (not MathNet's element-wise Matrix.Exp).
        var v = Matrix<double>.Build.DenseOfArray(new[,] { { 1.0, 2.0, 0.5 }, { 0.0, 1.0, -1.0 }, { 1.0, 0.0, 2.0 } });
        var vInv = v.Inverse();
        double[] lambda = [-0.5, -1.5, 0.3];
        var a = v * Matrix<double>.Build.DiagonalOfDiagonalArray(lambda) * vInv;
        var f = new FuncDynamics<double>(3, (t, y, d) =>
        {
            for (int i = 0; i < 3; i++) d[i] = a[i, 0] * y[0] + a[i, 1] * y[1] + a[i, 2] * y[2];
        });
        double[] y0 = [1.0, -2.0, 0.5];
        double[] times = [0, 0.5, 2, 4];
        var sol = Ode.Solve(f, y0, SaveAt.Times(times), Tight);
        for (int k = 0; k < times.Length; k++)
        {
            var exact = v * Matrix<double>.Build.DiagonalOfDiagonalArray([.. lambda.Select(l => Math.Exp(l * times[k]))]) * vInv * Vector<double>.Build.DenseOfArray(y0);
            for (int i = 0; i < 3; i++) Assert.That(sol.States[k][i], Is.EqualTo(exact[i]).Within(1e-8 * (1 + Math.Abs(exact[i]))), $"t = {times[k]}, component {i}");
        }
    }

    [Test]
    public void LotkaVolterra_ConservesItsFirstIntegral()
    {
        const double a = 1.5, b = 1, c = 3, d = 1;
        var f = new FuncDynamics<double>(2, (t, y, dy) => { dy[0] = a * y[0] - b * y[0] * y[1]; dy[1] = -c * y[1] + d * y[0] * y[1]; });
        static double H(double x, double y) => d * x - c * Math.Log(x) + b * y - a * Math.Log(y);
        double[] times = [.. Enumerable.Range(0, 16).Select(i => (double)i)];
        var sol = Ode.Solve(f, [10.0, 5.0], SaveAt.Times(times), Tight);
        double h0 = H(10, 5);
        for (int i = 0; i < times.Length; i++) Assert.That(H(sol.States[i][0], sol.States[i][1]), Is.EqualTo(h0).Within(1e-7), $"t = {times[i]}");
    }

    [Test]
    public void Sir_ConservesThePopulation()
    {
        const double n = 1000, beta = 0.2, gamma = 0.1;
        var f = new FuncDynamics<double>(3, (t, y, d) =>
        {
            double infection = beta * y[0] * y[1] / n;
            d[0] = -infection;
            d[1] = infection - gamma * y[1];
            d[2] = gamma * y[1];
        });
        var sol = Ode.Solve(f, [999.0, 1.0, 0.0], SaveAt.Times(0, 40, 80, 120, 160), new SolveOptions { RelativeTolerance = 1e-8 });
        for (int i = 0; i < sol.States.Count; i++)
            Assert.That(sol.States[i][0] + sol.States[i][1] + sol.States[i][2], Is.EqualTo(n).Within(1e-9 * n));
    }

    [Test]
    public void FloatState_SolvesToFloatPrecision()
    {
        var f = new FuncDynamics<float>(1, (t, y, d) => d[0] = -0.5 * y[0]);
        var sol = Ode.Solve<float>(f, [2.0f], SaveAt.Times(0, 1, 2), new SolveOptions { RelativeTolerance = 1e-5, AbsoluteTolerance = 1e-6 });
        Assert.That(sol.States[2][0], Is.EqualTo(2 * Math.Exp(-1.0)).Within(1e-4));
    }

    [Test]
    public void Batch_SharesOneStepSizeAndMatchesSeparateSolvesToTolerance()
    {
        // A 3×1 batch as one flat state: one step size for all rows (as torchdiffeq).
        var batch = new FuncDynamics<double>(3, (t, y, d) => { for (int i = 0; i < 3; i++) d[i] = -(i + 1) * y[i]; });
        var sol = Ode.Solve(batch, [1.0, 1.0, 1.0], SaveAt.End(0, 1), new SolveOptions { RelativeTolerance = 1e-9, AbsoluteTolerance = 1e-12 });
        for (int i = 0; i < 3; i++) Assert.That(sol.States[0][i], Is.EqualTo(Math.Exp(-(i + 1))).Within(1e-8));
    }
}
