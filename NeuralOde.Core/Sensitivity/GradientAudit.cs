using System.Diagnostics;
using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Core.Sensitivity;

/// <summary>One strategy's line in a <see cref="GradientAudit"/> report.</summary>
/// <param name="Strategy">The strategy's name ("finite differences" for the reference line).</param>
/// <param name="Loss">The loss value the strategy's forward produced.</param>
/// <param name="GradientNorm">‖(dL/dy0, dL/dθ)‖₂.</param>
/// <param name="RelativeDifference">max_i |g_i − g_fd,i| / max_i |g_fd,i| over the audited components, against central differences.</param>
/// <param name="ForwardEvaluations">NFE-F.</param>
/// <param name="BackwardEvaluations">NFE-B (evaluations made by the backward pass).</param>
/// <param name="Seconds">Wall time of forward + backward.</param>
public readonly record struct GradientAuditEntry(string Strategy, double Loss, double GradientNorm, double RelativeDifference, long ForwardEvaluations, long BackwardEvaluations, double Seconds);

/// <summary>"Is my gradient right?": the gradient of one loss through one solve, by every strategy and by central finite differences.</summary>
/// <remarks>
/// The finite differences re-solve with the forward's accepted steps replayed (landing on each recorded step end), so
/// a perturbation cannot flip a step decision; they therefore measure the gradient of the discrete solve, which
/// Backprop and Checkpointed reproduce to round-off and Adjoint to its tolerance. Every parameter and initial-state
/// component is audited unless <c>maxComponents</c> caps them (then an evenly spaced subset).
/// </remarks>
public static class GradientAudit
{
    /// <summary>Runs the audit.</summary>
    /// <typeparam name="T">The element type (double recommended: finite differences need the precision).</typeparam>
    /// <param name="f">The dynamics.</param>
    /// <param name="y0">The initial state.</param>
    /// <param name="stateShape">The state's layout (e.g. B × D).</param>
    /// <param name="saveAt">The saved times.</param>
    /// <param name="options">The forward options.</param>
    /// <param name="loss">The loss of the saved states (stacked by rows, as <see cref="OdeSolveNode{T}.States"/>), recorded on the tape.</param>
    /// <param name="strategies">The strategies to compare.</param>
    /// <param name="step">The finite-difference step.</param>
    /// <param name="maxComponents">The most components to difference (each costs two solves).</param>
    /// <returns>The finite-difference line first, then one line per strategy.</returns>
    public static IReadOnlyList<GradientAuditEntry> Run<T>(IDifferentiableDynamics<T> f, ReadOnlySpan<T> y0, Shape stateShape, SaveAt saveAt, SolveOptions options,
        Func<Tape<T>, Var<T>, Var<T>> loss, IReadOnlyList<ISensitivity> strategies, double step = 1e-6, int maxComponents = 200)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(strategies);
        ArgumentNullException.ThrowIfNull(options);
        int n = y0.Length, p = f.Parameters.Length;
        var initial = y0.ToArray();

        // The forward's accepted steps, replayed by the finite differences.
        var reference = Ode.Solve(f, y0, saveAt, options with { RecordSteps = true });
        var replay = options with
        {
            StepSize = new FixedStep(reference.Steps!.Max(s => Math.Abs(s.StepSize)) * 1.0000001),
            StepToTimes = [.. reference.Steps!.Select(s => s.EndTime)],
            RecordSteps = false,
        };
        var tape = new Tape<T>();
        double Loss(ReadOnlySpan<T> start)
        {
            var solution = Ode.Solve(f, start, saveAt, replay);
            tape.Reset();
            var states = tape.Constant(solution.Values, new Shape(saveAt.Count * stateShape.Rows, stateShape.Cols));
            return double.CreateTruncating(loss(tape, states).Value[0]);
        }

        int total = n + p;
        int stride = Math.Max(1, (total + maxComponents - 1) / maxComponents);
        var components = Enumerable.Range(0, total).Where(i => i % stride == 0).ToArray();
        var numeric = new double[components.Length];
        var theta = f.Parameters.Values;
        var clock = Stopwatch.StartNew();
        for (int c = 0; c < components.Length; c++)
        {
            int i = components[c];
            Span<T> target = i < n ? initial.AsSpan(i, 1) : theta.Slice(i - n, 1);
            T saved = target[0];
            target[0] = saved + T.CreateTruncating(step);
            double plus = Loss(initial);
            target[0] = saved - T.CreateTruncating(step);
            double minus = Loss(initial);
            target[0] = saved;
            numeric[c] = (plus - minus) / (2 * step);
        }
        double scale = Math.Max(numeric.Max(Math.Abs), double.Epsilon);
        var entries = new List<GradientAuditEntry>
        {
            new("finite differences", Loss(initial), Math.Sqrt(numeric.Sum(g => g * g)), 0, 0, 0, clock.Elapsed.TotalSeconds),
        };

        foreach (var strategy in strategies)
        {
            clock.Restart();
            tape.Reset();
            f.Parameters.ZeroGradients();
            var y0Var = tape.Variable(initial, stateShape);
            var solve = OdeLayer.Solve(tape, f, y0Var, saveAt, options, strategy);
            var value = loss(tape, solve.States);
            tape.Backward(value);
            double seconds = clock.Elapsed.TotalSeconds;
            var gradY0 = y0Var.Gradient;
            var gradTheta = f.Parameters.Gradients;
            double worst = 0, norm = 0;
            for (int i = 0; i < total; i++)
            {
                double g = double.CreateTruncating(i < n ? gradY0[i] : gradTheta[i - n]);
                norm += g * g;
            }
            for (int c = 0; c < components.Length; c++)
            {
                int i = components[c];
                double g = double.CreateTruncating(i < n ? gradY0[i] : gradTheta[i - n]);
                worst = Math.Max(worst, Math.Abs(g - numeric[c]) / scale);
            }
            var backward = solve.BackwardStats ?? default;
            entries.Add(new(strategy.GetType().Name, double.CreateTruncating(value.Value[0]), Math.Sqrt(norm), worst,
                solve.ForwardStats.FunctionEvaluations, backward.FunctionEvaluations, seconds));
        }
        f.Parameters.ZeroGradients();
        return entries;
    }
}
