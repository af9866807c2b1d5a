using NeuralOde.Core;
using NeuralOde.Core.Solvers;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.Solvers;

/// <summary>The shared reference problems (Data/odeproblems.json) at two tolerances with the three high-order methods.</summary>
public class ReferenceProblemTests
{
    private static readonly ButcherTableau[] Methods = [Tableaus.DormandPrince54, Tableaus.Tsitouras54, Tableaus.PrinceDormand87];

    public static IEnumerable<TestCaseData> Cases =>
        from p in SolverTestProblems.All
        from m in Methods
        select new TestCaseData(p, m).SetArgDisplayNames(p.Name, m.Name);

    /// <summary>Largest |y − y_ref| / (atol + rtol·|y_ref|) over the end state and the intermediate references.</summary>
    private static (double Units, double MaxError, long Nfe) Run(ReferenceProblem p, ButcherTableau method, double rtol)
    {
        double atol = rtol * 1e-2;
        double[] times = [p.T0, .. p.Intermediate.Select(x => x.T), p.T1];
        double[][] refs = [p.Y0, .. p.Intermediate.Select(x => x.Y), p.YRef];
        var sol = Ode.Solve(p.Dynamics(), p.Y0, SaveAt.Times(times), new SolveOptions { Method = method, RelativeTolerance = rtol, AbsoluteTolerance = atol });
        double units = 0, maxError = 0;
        for (int k = 1; k < times.Length; k++)
        {
            for (int i = 0; i < p.Y0.Length; i++)
            {
                double e = Math.Abs(sol.States[k][i] - refs[k][i]);
                units = Math.Max(units, e / (atol + rtol * Math.Abs(refs[k][i])));
                maxError = Math.Max(maxError, e);
            }
        }
        return (units, maxError, sol.Stats.FunctionEvaluations);
    }

    [TestCaseSource(nameof(Cases))]
    public void Solve_ReachesTheReferenceWithinToleranceUnits_AndErrorFallsWithRtol(ReferenceProblem problem, ButcherTableau method)
    {
        var loose = Run(problem, method, 1e-6);
        var tight = Run(problem, method, 1e-10);
        TestContext.Out.WriteLine($"{problem.Name} {method}: rtol 1e-6 → {loose.Units:F2} units ({loose.MaxError:E2}, {loose.Nfe} f), 1e-10 → {tight.Units:F2} units ({tight.MaxError:E2}, {tight.Nfe} f)");
        Assert.Multiple(() =>
        {
            Assert.That(loose.Units, Is.LessThanOrEqualTo(1000), "rtol 1e-6");
            Assert.That(tight.Units, Is.LessThanOrEqualTo(1000), "rtol 1e-10");
            // Tolerance proportionality: 1e4 less tolerance buys at least 1e2 less error, and costs more evaluations.
            Assert.That(tight.MaxError, Is.LessThan(loose.MaxError * 1e-2 + 1e-14), "error should fall roughly in proportion to rtol");
            Assert.That(tight.Nfe, Is.GreaterThan(loose.Nfe));
        });
    }

    [TestCaseSource(nameof(Methods))]
    public void AdaptiveSolve_ErrorFallsAndEvaluationsGrowAsRtolFalls(ButcherTableau method)
    {
        ReferenceProblem kepler = SolverTestProblems.All.Single(p => p.Name == "kepler");
        double[] rtols = [1e-4, 1e-6, 1e-8, 1e-10];
        var runs = rtols.Select(r => Run(kepler, method, r)).ToArray();
        for (int i = 1; i < runs.Length; i++)
        {
            Assert.That(runs[i].MaxError, Is.LessThan(runs[i - 1].MaxError), $"error at rtol {rtols[i]}");
            Assert.That(runs[i].Nfe, Is.GreaterThan(runs[i - 1].Nfe), $"evaluations at rtol {rtols[i]}");
        }
    }
}
