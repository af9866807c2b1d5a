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
/// <param name="RelativeDifference">max_i |g_i − g_fd,i| / max_i |g_fd,i| over the audited components, against central differences of the strategy's own discretisation.</param>
/// <param name="ForwardEvaluations">NFE-F.</param>
/// <param name="BackwardEvaluations">NFE-B (evaluations made by the backward pass).</param>
/// <param name="Seconds">Wall time of forward + backward.</param>
/// <param name="Threshold">The largest <paramref name="RelativeDifference"/> that passes (0 for the reference line).</param>
/// <param name="Passes">Whether <paramref name="RelativeDifference"/> is at most <paramref name="Threshold"/> (true for the reference line).</param>
public readonly record struct GradientAuditEntry(string Strategy, double Loss, double GradientNorm, double RelativeDifference, long ForwardEvaluations, long BackwardEvaluations, double Seconds,
    double Threshold = 0, bool Passes = true);

/// <summary>The lines of a <see cref="GradientAudit"/> (the finite-difference reference first) and its verdict.</summary>
public sealed class GradientAuditReport : IReadOnlyList<GradientAuditEntry>
{
    private readonly GradientAuditEntry[] entries;

    internal GradientAuditReport(GradientAuditEntry[] entries)
    {
        this.entries = entries;
        Failing = [.. entries.Where(e => !e.Passes).Select(e => e.Strategy)];
    }

    /// <summary>The names of the strategies whose gradient differs from finite differences by more than their threshold.</summary>
    public IReadOnlyList<string> Failing { get; }

    /// <summary>Whether every strategy passes.</summary>
    public bool AllPass => Failing.Count == 0;

    /// <inheritdoc/>
    public int Count => entries.Length;

    /// <inheritdoc/>
    public GradientAuditEntry this[int index] => entries[index];

    /// <inheritdoc/>
    public IEnumerator<GradientAuditEntry> GetEnumerator() => ((IEnumerable<GradientAuditEntry>)entries).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>One line: the verdict and the failing strategies.</summary>
    /// <returns>The summary.</returns>
    public override string ToString() => AllPass ? "gradient audit: every strategy passes" : $"gradient audit: {string.Join(", ", Failing)} fail";
}

/// <summary>"Is my gradient right?": the gradient of one loss through one solve, by every strategy and by central finite differences.</summary>
/// <remarks>
/// <para>
/// The finite differences difference each strategy's own discretisation: for Backprop, Checkpointed, Adjoint (and a
/// strategy of your own) they re-solve with <see cref="SolveOptions.Method"/> and the forward's accepted steps replayed
/// (landing on each recorded step end), so a perturbation cannot flip a step decision; for <see cref="Reversible"/>
/// (reversible Heun) and <see cref="ReversibleRungeKutta"/> (McCallum–Foster around the method) they re-run that
/// strategy's own forward, which with fixed steps is the same grid every time. Every parameter and initial-state
/// component is audited unless <c>maxComponents</c> caps them (then an evenly spaced subset).
/// </para>
/// <para>
/// The verdict: each strategy passes if its relative difference is at most its threshold, <see cref="DefaultThreshold"/>
/// unless a threshold function is given: the exact discrete strategies must agree to finite-difference accuracy, the
/// continuous adjoint only to the solve tolerance.
/// </para>
/// </remarks>
public static class GradientAudit
{
    /// <summary>
    /// The default pass threshold on the relative difference: 1e-5 in double (1e-2 in float) for the strategies that
    /// differentiate the discrete solve exactly (Backprop, Checkpointed, Reversible, ReversibleRungeKutta); for
    /// <see cref="Adjoint"/> (continuous, exact only to its tolerance) the larger of that and 100·max(rtol, atol) of
    /// its backward solve; the same as the adjoint for any other strategy, whose accuracy is not known.
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="strategy">The strategy.</param>
    /// <param name="options">The forward options.</param>
    /// <returns>The threshold.</returns>
    public static double DefaultThreshold<T>(ISensitivity strategy, SolveOptions options)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(options);
        double exact = typeof(T) == typeof(float) ? 1e-2 : 1e-5;
        if (strategy is Backprop or Checkpointed or Reversible or ReversibleRungeKutta) return exact;
        double rtol = (strategy as Adjoint)?.RelativeTolerance ?? options.RelativeTolerance;
        double atol = (strategy as Adjoint)?.AbsoluteTolerance ?? options.AbsoluteTolerance;
        return Math.Max(exact, 100 * Math.Max(rtol, atol));
    }

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
    /// <param name="maxComponents">The most components to difference (each costs two solves per discretisation).</param>
    /// <param name="threshold">The pass threshold of each strategy; null for <see cref="DefaultThreshold"/>.</param>
    /// <returns>The finite-difference line (of <see cref="SolveOptions.Method"/>) first, then one line per strategy, and the verdict.</returns>
    public static GradientAuditReport Run<T>(IDifferentiableDynamics<T> f, ReadOnlySpan<T> y0, Shape stateShape, SaveAt saveAt, SolveOptions options,
        Func<Tape<T>, Var<T>, Var<T>> loss, IReadOnlyList<ISensitivity> strategies, double step = 1e-6, int maxComponents = 200, Func<ISensitivity, double>? threshold = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(strategies);
        ArgumentNullException.ThrowIfNull(options);
        int n = y0.Length, p = f.Parameters.Length;
        var initial = y0.ToArray();

        // The forward's accepted steps, replayed by the finite differences. Under Backprop and Checkpointed a stepper of
        // the user's (a stiff one, say) lands on every saved time: so do the recorded and the replayed solves.
        bool lands = options.GradientsLandOnSavedTimes;
        var reference = Ode.TrySolveReplaying(f, y0, saveAt, options with { RecordSteps = true }, null, null, lands);
        if (reference.Failure is { } referenceFailure) throw referenceFailure;
        var replay = options with { StepSize = new FixedStep(reference.Steps!.Max(s => Math.Abs(s.StepSize))), RecordSteps = false };
        double[] replayEnds = [.. reference.Steps!.Select(s => s.EndTime)];
        var tape = new Tape<T>();

        // The loss of the discretisation a strategy differentiates: the replayed steps of options.Method, or the
        // strategy's own forward for the reversible solvers (which do not run options.Method's steps).
        double Loss(ReadOnlySpan<T> start, ISensitivity? own)
        {
            tape.Reset();
            if (own is not null)
            {
                var solve = OdeLayer.Solve(tape, f, tape.Constant(start.ToArray(), stateShape), saveAt, options, own);
                return double.CreateTruncating(loss(tape, solve.States).Value[0]);
            }
            var solution = Ode.TrySolveReplaying(f, start, saveAt, replay, null, replayEnds, lands);
            if (solution.Failure is { } failure) throw failure;
            var states = tape.Constant(solution.Values, new Shape(saveAt.Count * stateShape.Rows, stateShape.Cols));
            return double.CreateTruncating(loss(tape, states).Value[0]);
        }

        int total = n + p;
        int stride = Math.Max(1, (total + maxComponents - 1) / maxComponents);
        var components = Enumerable.Range(0, total).Where(i => i % stride == 0).ToArray();
        double[] Differences(ISensitivity? own)
        {
            var numeric = new double[components.Length];
            for (int c = 0; c < components.Length; c++)
            {
                int i = components[c];
                Span<T> target = i < n ? initial.AsSpan(i, 1) : f.Parameters.Values.Slice(i - n, 1);
                T saved = target[0];
                target[0] = saved + T.CreateTruncating(step);
                double plus = Loss(initial, own);
                target[0] = saved - T.CreateTruncating(step);
                double minus = Loss(initial, own);
                target[0] = saved;
                numeric[c] = (plus - minus) / (2 * step);
            }
            return numeric;
        }

        var clock = Stopwatch.StartNew();
        double[] replayed = Differences(null);
        var entries = new List<GradientAuditEntry>
        {
            new("finite differences", Loss(initial, null), Math.Sqrt(replayed.Sum(g => g * g)), 0, 0, 0, clock.Elapsed.TotalSeconds),
        };

        foreach (var strategy in strategies)
        {
            ArgumentNullException.ThrowIfNull(strategy, nameof(strategies));
            double[] numeric = strategy is Reversible or ReversibleRungeKutta ? Differences(strategy) : replayed;
            double scale = Math.Max(numeric.Max(Math.Abs), double.Epsilon);
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
            double limit = threshold?.Invoke(strategy) ?? DefaultThreshold<T>(strategy, options);
            entries.Add(new(strategy.GetType().Name, double.CreateTruncating(value.Value[0]), Math.Sqrt(norm), worst,
                solve.ForwardStats.FunctionEvaluations, backward.FunctionEvaluations, seconds, limit, worst <= limit));
        }
        f.Parameters.ZeroGradients();
        return new GradientAuditReport([.. entries]);
    }
}
