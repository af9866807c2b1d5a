using NeuralOde.AutoDiff;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Solvers;

namespace NeuralOde.Tests.Support;

/// <summary>
/// The reference the ReversibleRungeKutta gradient is held to: the coupled scheme y' = λ(y − z) + Φ(z),
/// z' = y' + z − Φ_back(y') recorded step by step on one tape (every base-method stage as f.Record plus Ops) over a
/// given grid, and one reverse sweep. No reconstruction: memory grows with the steps.
/// </summary>
public static class ReversibleRungeKuttaReference
{
    /// <summary>L = Σ_rows ⟨cotangent_row, y(t_row)⟩ over the saved states (row 0 = t0 when <paramref name="firstSaved"/> is 0); returns dL/dy0, dL/dθ and L.</summary>
    /// <remarks>The saved times must be among <c>stepEnds</c> (the end time of every step, in order), as the forward's grid has them.</remarks>
    public static (double[] GradY0, double[] GradTheta, double Loss) Gradient(
        IDifferentiableDynamics<double> f, Shape stateShape, double[] y0, ButcherTableau tableau, double lambda,
        IReadOnlyList<double> times, int firstSaved, IReadOnlyList<double> stepEnds, double[] cotangent)
    {
        int n = f.Dimension;
        var tape = new Tape<double>();
        f.Parameters.ZeroGradients();
        var x = tape.Variable(y0, stateShape);
        Var<double> y = x, z = x;
        Var<double>? loss = null;
        void AddOutput(Var<double> state, int row)
        {
            var term = Ops.Sum(Ops.Multiply(state, tape.Constant(cotangent.AsSpan(row * n, n), stateShape)));
            loss = loss is { } l ? l + term : term;
        }
        if (firstSaved == 0) AddOutput(y, 0);
        double t = times[0];
        int nextTime = 1;
        foreach (double tEnd in stepEnds)
        {
            double h = tEnd - t;
            var yNext = (y - z) * lambda + Step(tape, f, tableau, t, h, z);
            z = yNext + z - Step(tape, f, tableau, tEnd, -h, yNext);
            y = yNext;
            t = tEnd;
            if (nextTime < times.Count && t == times[nextTime])
            {
                AddOutput(y, nextTime - firstSaved);
                nextTime++;
            }
        }
        var total = loss!.Value;
        tape.Backward(total);
        return (x.Gradient.ToArray(), f.Parameters.Gradients.ToArray(), total.Value[0]);
    }

    /// <summary>Φ(t → t + h, u) of an explicit tableau, as tape operations.</summary>
    private static Var<double> Step(Tape<double> tape, IDifferentiableDynamics<double> f, ButcherTableau tableau, double t, double h, Var<double> u)
    {
        int s = tableau.Stages;
        var k = new Var<double>[s];
        for (int i = 0; i < s; i++)
        {
            var state = u;
            ReadOnlySpan<double> a = i > 0 ? tableau.ARow(i) : default;
            for (int j = 0; j < a.Length; j++)
            {
                if (a[j] != 0) state = state + k[j] * (h * a[j]);
            }
            double c = tableau.C[i];
            k[i] = f.Record(tape, c == 1 ? t + h : t + c * h, state);
        }
        var result = u;
        ReadOnlySpan<double> b = tableau.B;
        for (int j = 0; j < s; j++)
        {
            if (b[j] != 0) result = result + k[j] * (h * b[j]);
        }
        return result;
    }
}
