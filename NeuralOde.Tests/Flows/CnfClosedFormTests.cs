using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core;
using NeuralOde.Core.Flows;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Flows;

/// <summary>A linear flow f = A z has z(T) = e^{AT} x and log p(x) = log p_base(e^{AT} x) + tr(A)·T exactly.</summary>
public class CnfClosedFormTests
{
    // A = P diag(λ1, λ2) P⁻¹ with P = [[1, 1], [0, 1]]: A = [[λ1, λ2 − λ1], [0, λ2]], e^{AT} = [[e1, e2 − e1], [0, e2]].
    private const double Lambda1 = -0.7, Lambda2 = 0.4, Duration = 0.8;
    private static readonly double[,] A = { { Lambda1, Lambda2 - Lambda1 }, { 0, Lambda2 } };

    private static readonly SolveOptions Tight = new() { RelativeTolerance = 1e-11, AbsoluteTolerance = 1e-12 };

    [Test]
    public void LinearFlow_LogProbAndTransform_MatchTheMatrixExponential()
    {
        var cnf = new Cnf<double>(new LinearVelocityField<double>(A), new CnfOptions { EndTime = Duration, Solver = Tight, Base = BaseDistribution.IsotropicGaussian(2, 0.7) });
        double[] x = [0.3, -1.2, 2.0, 0.5, -0.4, -0.9];
        double[] logp = cnf.LogProb(x);
        double[] z = cnf.Transform(x);
        double e1 = Math.Exp(Lambda1 * Duration), e2 = Math.Exp(Lambda2 * Duration);
        for (int b = 0; b < 3; b++)
        {
            double zx = e1 * x[2 * b] + (e2 - e1) * x[2 * b + 1], zy = e2 * x[2 * b + 1];
            double expected = -0.5 * (zx * zx + zy * zy) / 0.7 - Math.Log(2 * Math.PI * 0.7) + (Lambda1 + Lambda2) * Duration;
            Assert.That(z[2 * b], Is.EqualTo(zx).Within(1e-9));
            Assert.That(z[2 * b + 1], Is.EqualTo(zy).Within(1e-9));
            Assert.That(logp[b], Is.EqualTo(expected).Within(1e-9));
        }
    }

    [Test]
    public void LinearFlow_OnTheTape_GivesTheSameLogProbAndTheExactGradientOfA()
    {
        // dL/dA for L = −mean log p: compare with central differences of the closed form in A's entries.
        double[] x = [0.3, -1.2, 2.0, 0.5];
        var field = new LinearVelocityField<double>(A);
        var cnf = new Cnf<double>(field, new CnfOptions { EndTime = Duration, Solver = Tight });
        var tape = new Tape<double>();
        var pass = cnf.Forward(tape, x, noiseSeed: 0);
        tape.Backward(pass.NegativeLogLikelihood);
        Assert.That(pass.NegativeLogLikelihood.Value[0], Is.EqualTo(ClosedFormLoss(A, x)).Within(1e-9));
        var grad = field.Parameters["a_transposed"].Gradient;
        for (int i = 0; i < 2; i++)
        {
            for (int j = 0; j < 2; j++)
            {
                var plus = (double[,])A.Clone();
                var minus = (double[,])A.Clone();
                plus[i, j] += 1e-5;
                minus[i, j] -= 1e-5;
                double fd = (ClosedFormLoss(plus, x) - ClosedFormLoss(minus, x)) / 2e-5;
                Assert.That(grad[j * 2 + i], Is.EqualTo(fd).Within(1e-6 * (1 + Math.Abs(fd))), $"dL/dA[{i},{j}]");
            }
        }
    }

    /// <summary>−mean log p(x) for f = A z with a general 2 × 2 A, from its eigen-decomposition-free exponential (series).</summary>
    private static double ClosedFormLoss(double[,] a, double[] x)
    {
        var e = Expm(a, Duration);
        double total = 0;
        int n = x.Length / 2;
        for (int b = 0; b < n; b++)
        {
            double zx = e[0, 0] * x[2 * b] + e[0, 1] * x[2 * b + 1], zy = e[1, 0] * x[2 * b] + e[1, 1] * x[2 * b + 1];
            total += -0.5 * (zx * zx + zy * zy) - Math.Log(2 * Math.PI) + (a[0, 0] + a[1, 1]) * Duration;
        }
        return -total / n;
    }

    private static double[,] Expm(double[,] a, double t)
    {
        var result = new double[,] { { 1, 0 }, { 0, 1 } };
        var term = new double[,] { { 1, 0 }, { 0, 1 } };
        for (int k = 1; k < 40; k++)
        {
            var next = new double[2, 2];
            for (int i = 0; i < 2; i++)
            {
                for (int j = 0; j < 2; j++) next[i, j] = (term[i, 0] * a[0, j] + term[i, 1] * a[1, j]) * t / k;
            }
            term = next;
            for (int i = 0; i < 2; i++)
            {
                for (int j = 0; j < 2; j++) result[i, j] += term[i, j];
            }
        }
        return result;
    }
}
