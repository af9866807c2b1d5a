using NUnit.Framework;
using NeuralOde.Core.Solvers;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Solvers;

/// <summary>Every tableau satisfies the order conditions (Butcher's rooted trees) up to its order, and so does its embedded solution.</summary>
public class TableauConsistencyTests
{
    public static IEnumerable<ButcherTableau> AllTableaus => Tableaus.All;

    public static IEnumerable<ButcherTableau> EmbeddedTableaus => Tableaus.All.Where(t => t.HasErrorEstimate);

    public static IEnumerable<ButcherTableau> DenseTableaus => Tableaus.All.Where(t => t.HasDenseOutput);

    [Test]
    public void TreeCounts_MatchTheKnownSequence()
    {
        int[] expected = [1, 1, 2, 4, 9, 20, 48, 115];
        for (int p = 1; p <= 8; p++) Assert.That(ButcherTrees.Count(p), Is.EqualTo(expected[p - 1]), $"order {p}");
    }

    /// <summary>Largest |Φ(t) − 1/γ(t)| over the trees of order <paramref name="order"/>, for weights <paramref name="b"/>.</summary>
    private static double MaxDefect(ButcherTableau tableau, double[] b, int order) =>
        ButcherTrees.MaxDefect(tableau.Stages, (i, j) => j < i ? tableau.ARow(i)[j] : 0, b, order);

    [TestCaseSource(nameof(AllTableaus))]
    public void OrderConditions_HoldUpToTheOrder(ButcherTableau tableau)
    {
        for (int p = 1; p <= tableau.Order; p++)
            Assert.That(MaxDefect(tableau, tableau.B.ToArray(), p), Is.LessThan(1e-12), $"{tableau}: an order-{p} condition fails");
        if (tableau.Order < 8)
            Assert.That(MaxDefect(tableau, tableau.B.ToArray(), tableau.Order + 1), Is.GreaterThan(1e-8), $"{tableau} should not reach order {tableau.Order + 1}");
    }

    [TestCaseSource(nameof(EmbeddedTableaus))]
    public void EmbeddedSolution_HasItsStatedOrder(ButcherTableau tableau)
    {
        double[] bHat = [.. tableau.B.ToArray().Zip(tableau.BError.ToArray(), (b, e) => b - e)];
        for (int p = 1; p <= tableau.EmbeddedOrder; p++)
            Assert.That(MaxDefect(tableau, bHat, p), Is.LessThan(1e-12), $"{tableau}: embedded order-{p} condition fails");
        Assert.That(MaxDefect(tableau, bHat, tableau.EmbeddedOrder + 1), Is.GreaterThan(1e-8), $"{tableau}'s embedded solution should not reach order {tableau.EmbeddedOrder + 1}");
    }

    [TestCaseSource(nameof(DenseTableaus))]
    public void DenseOutput_SatisfiesQuadratureConditionsAtInteriorPoints(ButcherTableau tableau)
    {
        // Σ b_i(θ) c_i^(m−1) = θ^m / m for m up to the interpolant's order (4 for the 5(4) pairs; 5 checked for RK8(7)).
        int order = tableau.Order >= 8 ? 5 : 4;
        var w = new double[tableau.Stages];
        foreach (double theta in new[] { 0.25, 0.5, 0.8 })
        {
            tableau.DenseWeights(theta, w);
            for (int m = 1; m <= order; m++)
            {
                double sum = 0;
                for (int i = 0; i < w.Length; i++) sum += w[i] * Math.Pow(tableau.C[i], m - 1);
                Assert.That(sum, Is.EqualTo(Math.Pow(theta, m) / m).Within(1e-12), $"{tableau}: θ = {theta}, m = {m}");
            }
        }
    }

    [Test]
    public void FsalAndStages_AreDerivedFromTheNumbers()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Tableaus.DormandPrince54.IsFsal, Is.True);
            Assert.That(Tableaus.Tsitouras54.IsFsal, Is.True);
            Assert.That(Tableaus.BogackiShampine32.IsFsal, Is.True);
            Assert.That(Tableaus.PrinceDormand87.IsFsal, Is.True);
            Assert.That(Tableaus.PrinceDormand87.Stages, Is.EqualTo(14));
            Assert.That(Tableaus.CashKarp54.IsFsal, Is.False);
            Assert.That(Tableaus.RungeKutta4.IsFsal, Is.False);
            Assert.That(Tableaus.DormandPrince54.ControllerOrder, Is.EqualTo(5));
        });
    }

    [Test]
    public void Constructor_RejectsInconsistentCoefficients()
    {
        Assert.Multiple(() =>
        {
            var rowSum = Assert.Throws<ArgumentException>(() => new ButcherTableau("bad", [0.0, 0.5], [[], [0.4]], [0.5, 0.5], 1));
            Assert.That(rowSum!.ParamName, Is.EqualTo("a"));
            var bSum = Assert.Throws<ArgumentException>(() => new ButcherTableau("bad", [0.0, 0.5], [[], [0.5]], [0.5, 0.6], 1));
            Assert.That(bSum!.ParamName, Is.EqualTo("b"));
            var eSum = Assert.Throws<ArgumentException>(() => new ButcherTableau("bad", [0.0, 0.5], [[], [0.5]], [0.0, 1.0], 2, [0.1, 0.0], 1));
            Assert.That(eSum!.ParamName, Is.EqualTo("bError"));
            var ragged = Assert.Throws<ArgumentException>(() => new ButcherTableau("bad", [0.0, 0.5], [[], [0.25, 0.25]], [0.0, 1.0], 2));
            Assert.That(ragged!.ParamName, Is.EqualTo("a"));
        });
    }
}
