using NeuralOde.Core.Solvers;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Solvers;

/// <summary>The span engine's single step equals a plain scalar reference step, and exposes every stage for a step's VJP.</summary>
public class ExplicitRungeKuttaStepTests
{
    public static IEnumerable<TestCaseData> Cases =>
        from m in Tableaus.All
        from n in new[] { 1, 7, 33, 6 * 512 + 7 }
        select new TestCaseData(m, n).SetArgDisplayNames(m.Name, n.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static void Rhs(double t, ReadOnlySpan<double> y, Span<double> d)
    {
        for (int i = 0; i < y.Length; i++) d[i] = Math.Sin(t + 0.1 * i) - 0.3 * y[i] * y[(i + 1) % y.Length];
    }

    [TestCaseSource(nameof(Cases))]
    public void Step_MatchesTheScalarReference(ButcherTableau method, int n)
    {
        var rng = new Random(20261128);
        double[] y0 = [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 - 1)];
        const double t = 0.4, h = -0.05;

        // Reference: the textbook formulas, one element at a time.
        int s = method.Stages;
        var k = new double[s][];
        var yStage = new double[s][];
        for (int i = 0; i < s; i++)
        {
            yStage[i] = (double[])y0.Clone();
            for (int j = 0; j < i; j++)
            {
                for (int d = 0; d < n; d++) yStage[i][d] += h * method.ARow(i)[j] * k[j][d];
            }
            k[i] = new double[n];
            Rhs(t + method.C[i] * h, yStage[i], k[i]);
        }
        var y1 = (double[])y0.Clone();
        var err = new double[n];
        for (int i = 0; i < s; i++)
        {
            for (int d = 0; d < n; d++)
            {
                y1[d] += h * method.B[i] * k[i][d];
                if (method.HasErrorEstimate) err[d] += h * method.BError[i] * k[i][d];
            }
        }

        var engine = new ExplicitRungeKutta<double>(method, n);
        var f = new FuncDynamics<double>(n, Rhs);
        var y1Engine = new double[n];
        var errEngine = new double[n];
        engine.Step(f, t, h, y0, default, y1Engine, errEngine);

        Assert.That(engine.FunctionEvaluations, Is.EqualTo(s));
        Assert.That(y1Engine, Is.EqualTo(y1).Within(1e-14));
        if (method.HasErrorEstimate) Assert.That(errEngine, Is.EqualTo(err).Within(1e-15));
        for (int i = 0; i < s; i++)
        {
            Assert.That(engine.StageTime(i), Is.EqualTo(t + method.C[i] * h).Within(1e-15));
            Assert.That(engine.StageState(i).ToArray(), Is.EqualTo(yStage[i]).Within(1e-14), $"stage state {i}");
            Assert.That(engine.Stage(i).ToArray(), Is.EqualTo(k[i]).Within(1e-14), $"stage {i}");
        }
    }

    [Test]
    public void Step_ReusesAGivenFirstStage()
    {
        var engine = new ExplicitRungeKutta<double>(Tableaus.DormandPrince54, 3);
        var f = new FuncDynamics<double>(3, Rhs);
        double[] y0 = [0.1, 0.2, 0.3];
        var f0 = new double[3];
        Rhs(1.0, y0, f0);
        var y1 = new double[3];
        engine.Step(f, 1.0, 0.1, y0, f0, y1, default);
        Assert.That(engine.FunctionEvaluations, Is.EqualTo(6));
        Assert.That(f.Calls, Is.EqualTo(6));
        // FSAL: the last stage is f(t1, y1).
        var f1 = new double[3];
        Rhs(1.1, y1, f1);
        Assert.That(engine.Stage(6).ToArray(), Is.EqualTo(f1).Within(1e-15));
    }
}
