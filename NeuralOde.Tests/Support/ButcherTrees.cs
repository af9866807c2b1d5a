namespace NeuralOde.Tests.Support;

/// <summary>Butcher's rooted trees and the order conditions of a Runge–Kutta method, explicit or diagonally implicit.</summary>
internal static class ButcherTrees
{
    /// <summary>A rooted tree as its children's indices into <see cref="Trees"/> (sorted).</summary>
    private sealed record Tree(int Order, int[] Children);

    private static readonly List<Tree> Trees = BuildTrees(8);

    private static List<Tree> BuildTrees(int maxOrder)
    {
        var trees = new List<Tree> { new(1, []) };
        for (int order = 2; order <= maxOrder; order++)
        {
            var children = new List<int>();
            int existing = trees.Count;
            void Choose(int start, int remaining)
            {
                if (remaining == 0)
                {
                    trees.Add(new Tree(order, [.. children]));
                    return;
                }
                for (int i = start; i < existing; i++)
                {
                    if (trees[i].Order > remaining) continue;
                    children.Add(i);
                    Choose(i, remaining - trees[i].Order);
                    children.RemoveAt(children.Count - 1);
                }
            }
            Choose(0, order - 1);
        }
        return trees;
    }

    /// <summary>The number of rooted trees of order <paramref name="order"/> (up to 8).</summary>
    public static int Count(int order) => Trees.Count(t => t.Order == order);

    /// <summary>
    /// Largest |bᵀΦ(t) − 1/γ(t)| over the trees of order <paramref name="order"/>, for the s-stage coefficients
    /// a(i, j), j ≤ i (the diagonal included, so diagonally implicit methods are covered), and weights <paramref name="b"/>.
    /// </summary>
    public static double MaxDefect(int s, Func<int, int, double> a, double[] b, int order)
    {
        var psi = new double[Trees.Count][];
        var gamma = new double[Trees.Count];
        double worst = 0;
        for (int k = 0; k < Trees.Count && Trees[k].Order <= order; k++)
        {
            Tree tree = Trees[k];
            var v = Enumerable.Repeat(1.0, s).ToArray();
            gamma[k] = tree.Order;
            foreach (int child in tree.Children)
            {
                gamma[k] *= gamma[child];
                for (int i = 0; i < s; i++)
                {
                    double ai = 0;
                    for (int j = 0; j <= i; j++) ai += a(i, j) * psi[child][j];
                    v[i] *= ai;
                }
            }
            psi[k] = v;
            if (tree.Order != order) continue;
            double phi = 0;
            for (int i = 0; i < s; i++) phi += b[i] * v[i];
            worst = Math.Max(worst, Math.Abs(phi - 1 / gamma[k]));
        }
        return worst;
    }
}
