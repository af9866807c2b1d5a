using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.AutoDiff;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Solvers;

namespace NeuralOde.Core.Sensitivity;

/// <summary>Where one stage evaluation k = f(t, Y) lives on a tape: its input leaf, its first node and its output.</summary>
internal readonly record struct StageRecord(int Leaf, int First, int Output);

/// <summary>
/// Records Runge–Kutta steps stage by stage on a tape (each stage f(t_i, Y_i) a self-contained sub-graph) and takes
/// the discrete vector–Jacobian product of a recorded step by walking its tableau backwards.
/// </summary>
/// <remarks>
/// For a step y1 = y0 + h·Σ b_i k_i with k_i = f(t_i, Y_i) and Y_i = y0 + h·Σ_{j&lt;i} a_ij k_j, the reverse pass is
/// k̄_i = h·b_i·ȳ1 + h·Σ_{m&gt;i} a_mi·Ȳ_m with Ȳ_m = (∂f/∂y)ᵀ k̄_m taken from the recorded stage m, and
/// ȳ0 = ȳ1 + Σ_m Ȳ_m; θ̄ collects (∂f/∂θ)ᵀ k̄_m. Step sizes are constants (the step sequence is not differentiated).
/// </remarks>
internal sealed class StepRecorder<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ButcherTableau tableau;
    private readonly int n;
    private readonly Shape shape;
    private readonly bool torchdiffeqStageTimes;
    private readonly T[] stageState;
    private readonly T[] stageCotangent;
    private readonly List<StageRecord> stages = [];

    public StepRecorder(ButcherTableau tableau, Shape stateShape, bool torchdiffeqStageTimes, int chunkLength)
    {
        this.tableau = tableau;
        shape = stateShape;
        n = stateShape.Length;
        this.torchdiffeqStageTimes = torchdiffeqStageTimes;
        stageState = new T[n];
        stageCotangent = new T[tableau.Stages * n];
        Tape = new Tape<T>(chunkLength);
    }

    public Tape<T> Tape { get; }

    public ButcherTableau Tableau => tableau;

    /// <summary>Stage records so far (s per recorded step, plus any end-derivative records).</summary>
    public int Count => stages.Count;

    /// <summary>Vector–Jacobian products taken so far.</summary>
    public long VjpCount { get; private set; }

    public StageRecord this[int index] => stages[index];

    public void Reset()
    {
        Tape.Reset();
        stages.Clear();
    }

    /// <summary>Appends a copy of an existing record (so a step's s stage records can be addressed contiguously).</summary>
    public int Append(int record)
    {
        stages.Add(stages[record]);
        return stages.Count - 1;
    }

    /// <summary>Forgets the records from <paramref name="count"/> on and the tape nodes after <paramref name="mark"/>.</summary>
    public void Rollback(TapeMark mark, int count)
    {
        Tape.Rollback(mark);
        stages.RemoveRange(count, stages.Count - count);
    }

    /// <summary>Records f(t, y) as a self-contained sub-graph and returns the index of its record.</summary>
    public int RecordEvaluation(IDifferentiableDynamics<T> f, double t, ReadOnlySpan<T> y)
    {
        int first = Tape.Count;
        var leaf = Tape.Variable(y, shape);
        var output = f.Record(Tape, t, leaf);
        if (output.Shape.Length != n)
            throw new InvalidOperationException($"The dynamics' Record returned a {output.Shape} value for a {shape} state.");
        stages.Add(new StageRecord(leaf.Index, first, Tape.Check(output, "output")));
        return stages.Count - 1;
    }

    /// <summary>The value k of a record.</summary>
    public ReadOnlySpan<T> Derivative(int record) => Tape.Value(stages[record].Output);

    /// <summary>
    /// Records the s stages of the step (t, h) from y0 and returns the index of its first stage record; stage 0 reuses
    /// record <paramref name="reuseFirstStage"/> when it is not −1 (FSAL). Writes y1 when given.
    /// </summary>
    public int RecordStep(IDifferentiableDynamics<T> f, double t, double h, ReadOnlySpan<T> y0, int reuseFirstStage, bool endStageBeforeStepEnd, Span<T> y1)
    {
        int s = tableau.Stages;
        int firstStage = stages.Count;
        ReadOnlySpan<double> c = tableau.C;
        for (int i = 0; i < s; i++)
        {
            if (i == 0)
            {
                if (reuseFirstStage >= 0) stages.Add(stages[reuseFirstStage]);
                else RecordEvaluation(f, t, y0);
                continue;
            }
            Combine(y0, h, tableau.ARow(i), firstStage, stageState);
            RecordEvaluation(f, ExplicitRungeKutta<T>.StageTimeFor(t, h, c[i], torchdiffeqStageTimes, endStageBeforeStepEnd), stageState);
        }
        if (!y1.IsEmpty)
        {
            if (tableau.IsFsal) Tape.Value(stages[firstStage + s - 1].Leaf).CopyTo(y1);
            else Combine(y0, h, tableau.B, firstStage, y1);
        }
        return firstStage;
    }

    /// <summary>destination = y0 + Σ_j (h·w_j)·k_j over the step's stages (the engine's arithmetic, zero weights skipped).</summary>
    public void Combine(ReadOnlySpan<T> y0, double h, ReadOnlySpan<double> weights, int firstStage, Span<T> destination)
    {
        if (!y0.Overlaps(destination)) y0.CopyTo(destination);
        for (int j = 0; j < weights.Length; j++)
        {
            T cj = T.CreateTruncating(h * weights[j]);
            if (cj != T.Zero) TensorPrimitives.MultiplyAdd(Derivative(firstStage + j), cj, destination, destination);
        }
    }

    /// <summary>Adds (∂f/∂y)ᵀ·cotangent of a record into <paramref name="gradY"/> and (∂f/∂θ)ᵀ·cotangent into the sink.</summary>
    public void AccumulateVjp(int record, ReadOnlySpan<T> cotangent, Span<T> gradY, GradientSink<T> sink)
    {
        VjpCount++;
        var r = stages[record];
        Tape.Sweep(r.First, r.Output, cotangent, sink);
        var g = Tape.Gradient(r.Leaf);
        TensorPrimitives.Add(gradY, g, gradY);
    }

    /// <summary>The stage cotangent buffer k̄ (s × n), cleared.</summary>
    public Span<T> ClearedStageCotangents()
    {
        stageCotangent.AsSpan().Clear();
        return stageCotangent;
    }

    /// <summary>
    /// The reverse pass of a recorded step: given ȳ1 in <paramref name="yBar"/> and any stage cotangents already in
    /// <paramref name="kBar"/> (from interpolated outputs), overwrites <paramref name="yBar"/> with ȳ0 and sends θ̄ to the sink.
    /// </summary>
    public void StepVjp(int firstStage, double h, Span<T> yBar, Span<T> kBar, GradientSink<T> sink)
    {
        int s = tableau.Stages;
        ReadOnlySpan<double> b = tableau.IsFsal ? tableau.ARow(s - 1) : tableau.B;
        for (int j = 0; j < b.Length; j++)
        {
            T cj = T.CreateTruncating(h * b[j]);
            if (cj != T.Zero) TensorPrimitives.MultiplyAdd(yBar, cj, kBar.Slice(j * n, n), kBar.Slice(j * n, n));
        }
        // ȳ0 starts as ȳ1 (y1 = y0 + …); each stage adds its Ȳ_i, which also flows to the earlier stages' k̄_j.
        var yStage = stageState.AsSpan();
        for (int i = s - 1; i >= 0; i--)
        {
            var kBarI = kBar.Slice(i * n, n);
            if (IsZero(kBarI)) continue;
            yStage.Clear();
            AccumulateVjp(firstStage + i, kBarI, yStage, sink);
            TensorPrimitives.Add(yBar, yStage, yBar);
            ReadOnlySpan<double> a = i > 0 ? tableau.ARow(i) : default;
            for (int j = 0; j < a.Length; j++)
            {
                T cj = T.CreateTruncating(h * a[j]);
                if (cj != T.Zero) TensorPrimitives.MultiplyAdd(yStage, cj, kBar.Slice(j * n, n), kBar.Slice(j * n, n));
            }
        }
    }

    private static bool IsZero(ReadOnlySpan<T> values) => values.IndexOfAnyExcept(T.Zero) < 0;
}
