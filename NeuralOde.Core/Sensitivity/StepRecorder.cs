using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Threading;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Solvers;

namespace NeuralOde.Core.Sensitivity;

/// <summary>
/// Records Runge–Kutta steps stage by stage on a tape (each stage f(t_i, Y_i) a self-contained sub-graph) and takes
/// the discrete vector–Jacobian product of a recorded step by walking its tableau backwards.
/// </summary>
/// <remarks>
/// For a step y1 = y0 + h·Σ b_i k_i with k_i = f(t_i, Y_i) and Y_i = y0 + h·Σ_{j&lt;i} a_ij k_j, the reverse pass is
/// k̄_i = h·b_i·ȳ1 + h·Σ_{m&gt;i} a_mi·Ȳ_m with Ȳ_m = (∂f/∂y)ᵀ k̄_m taken from the recorded stage m, and
/// ȳ0 = ȳ1 + Σ_m Ȳ_m; θ̄ collects (∂f/∂θ)ᵀ k̄_m. Step sizes are constants (the step sequence is not differentiated).
/// Dynamics with independent rows are recorded in row blocks on one tape per block (<see cref="RowParallelTapes{T}"/>):
/// a record is then one <see cref="StageRecord"/> per block, and everything row-wise here works block by block.
/// Dynamics of row groups (a CNF's [z | Δ | …], see <see cref="TapeDynamics{T}.Groups"/>) are split too: the recorder
/// then keeps its states in block-major order (block p's rows gathered into one contiguous range) and converts at its
/// boundary, so the stages, their combinations and the reverse pass run unchanged on contiguous blocks.
/// </remarks>
internal sealed class StepRecorder<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ButcherTableau tableau;
    private readonly int n;
    private readonly Shape shape;
    private readonly bool torchdiffeqStageTimes;
    private readonly int chunkLength;
    private readonly T[] stageState;
    private readonly T[] stageCotangent;
    private readonly List<StageRecord> stages = [];
    private StageRecord[] recordScratch = [];
    private TapeMark[][] marks = [[], []];
    private RowParallelTapes<T>? blocks;
    private StepVjpWork? stepVjp;
    private int parts = 1;
    // Block-major copies of states and cotangents passing in and out, when row groups are split (see the remarks).
    private T[] inside = [], insideStart = [], insideEnd = [], insideStateCotangent = [], insideStageCotangent = [];

    public StepRecorder(ButcherTableau tableau, Shape stateShape, bool torchdiffeqStageTimes, int chunkLength)
    {
        this.tableau = tableau;
        shape = stateShape;
        n = stateShape.Length;
        this.torchdiffeqStageTimes = torchdiffeqStageTimes;
        this.chunkLength = chunkLength;
        stageState = new T[n];
        stageCotangent = new T[tableau.Stages * n];
    }

    public ButcherTableau Tableau => tableau;

    /// <summary>Stage records so far (s per recorded step, plus any end-derivative records).</summary>
    public int Count => stages.Count / parts;

    /// <summary>Vector–Jacobian products taken so far.</summary>
    public long VjpCount { get; private set; }

    /// <summary>Bytes of values recorded on the tapes.</summary>
    public long ValueBytesInUse => blocks?.ValueBytesInUse ?? 0;

    /// <summary>Prepares the tapes for <paramref name="f"/> (kept while the same dynamics are recorded) and forgets all records.</summary>
    public void Bind(IDifferentiableDynamics<T> f)
    {
        if (blocks is null || !ReferenceEquals(blocks.Dynamics, f))
        {
            if (f is TapeDynamics<T> { Groups: { } layout } grouped && RowSplit.Parts(layout.Rows, f.Parameters.Length) is > 1 and int groupParts)
            {
                parts = groupParts;
                blocks = new RowParallelTapes<T>(grouped, layout, parts, chunkLength);
                inside = new T[n];
                insideStart = new T[n];
                insideEnd = new T[n];
                insideStateCotangent = new T[n];
                insideStageCotangent = new T[tableau.Stages * n];
            }
            else
            {
                parts = RowSplit.Parts(f);
                blocks = new RowParallelTapes<T>(f, shape, parts, chunkLength);
            }
            recordScratch = new StageRecord[parts];
            stepVjp = null;
            marks = [new TapeMark[parts], new TapeMark[parts]];
        }
        Reset();
    }

    public void Reset()
    {
        blocks?.Reset();
        stages.Clear();
    }

    /// <summary>Appends a copy of an existing record (so a step's s stage records can be addressed contiguously).</summary>
    public int Append(int record)
    {
        for (int p = 0; p < parts; p++) stages.Add(stages[record * parts + p]);
        return Count - 1;
    }

    /// <summary>Remembers the current end of the records and tapes in mark <paramref name="slot"/> (0 or 1), for <see cref="RollbackToMark"/>; returns the record count.</summary>
    public int Mark(int slot = 0)
    {
        for (int p = 0; p < parts; p++) marks[slot][p] = Blocks.Tape(p).Mark();
        return Count;
    }

    /// <summary>Forgets the records and tape nodes added since the last <see cref="Mark"/> of <paramref name="slot"/>, which returned <paramref name="count"/>.</summary>
    public void RollbackToMark(int count, int slot = 0)
    {
        for (int p = 0; p < parts; p++) Blocks.Tape(p).Rollback(marks[slot][p]);
        stages.RemoveRange(count * parts, stages.Count - count * parts);
    }

    /// <summary>Records f(t, y) as a self-contained sub-graph (one per row block) and returns the index of its record.</summary>
    public int RecordEvaluation(IDifferentiableDynamics<T> f, double t, ReadOnlySpan<T> y)
    {
        if (!ReferenceEquals(Blocks.Dynamics, f)) throw new InvalidOperationException("The recorder is bound to other dynamics.");
        return RecordInside(t, ToInside(y, inside));
    }

    /// <summary>Records f at a state already in the recorder's order.</summary>
    private int RecordInside(double t, ReadOnlySpan<T> y)
    {
        Blocks.Record(t, y, recordScratch);
        stages.AddRange(recordScratch);
        return Count - 1;
    }

    /// <summary><paramref name="state"/> in the recorder's order: itself, or gathered block-major into <paramref name="buffer"/>.</summary>
    private ReadOnlySpan<T> ToInside(ReadOnlySpan<T> state, Span<T> buffer)
    {
        if (!Blocks.BlockMajor) return state;
        Blocks.ToBlockMajor(state, buffer);
        return buffer;
    }

    /// <summary>Writes <paramref name="inside"/> (the recorder's order) into <paramref name="state"/> (the dynamics' order).</summary>
    private void ToOutside(ReadOnlySpan<T> inside, Span<T> state) => Blocks.FromBlockMajor(inside, state);

    /// <summary>Copies the value k of a record into <paramref name="destination"/>.</summary>
    public void CopyDerivative(int record, Span<T> destination)
    {
        Span<T> target = !Blocks.BlockMajor ? destination : inside;
        for (int p = 0; p < parts; p++) DerivativeBlock(record, p).CopyTo(target[Blocks.Block(p)]);
        if (Blocks.BlockMajor) ToOutside(inside, destination);
    }

    /// <summary>
    /// Records the s stages of the step (t, h) from y0 and returns the index of its first stage record; stage 0 reuses
    /// record <paramref name="reuseFirstStage"/> when it is not −1 (FSAL). Writes y1 when given.
    /// </summary>
    public int RecordStep(IDifferentiableDynamics<T> f, double t, double h, ReadOnlySpan<T> y0, int reuseFirstStage, bool endStageBeforeStepEnd, Span<T> y1)
    {
        if (!ReferenceEquals(Blocks.Dynamics, f)) throw new InvalidOperationException("The recorder is bound to other dynamics.");
        y0 = ToInside(y0, insideStart);
        Span<T> end = !Blocks.BlockMajor || y1.IsEmpty ? y1 : insideEnd;
        int s = tableau.Stages;
        int firstStage = Count;
        ReadOnlySpan<double> c = tableau.C;
        for (int i = 0; i < s; i++)
        {
            if (i == 0)
            {
                if (reuseFirstStage >= 0) Append(reuseFirstStage);
                else RecordInside(t, y0);
                continue;
            }
            Combine(y0, h, tableau.ARow(i), firstStage, stageState);
            RecordInside(ExplicitRungeKutta<T>.StageTimeFor(t, h, c[i], torchdiffeqStageTimes, endStageBeforeStepEnd), stageState);
        }
        if (!end.IsEmpty)
        {
            if (tableau.IsFsal)
            {
                for (int p = 0; p < parts; p++) Blocks.Tape(p).Value(stages[(firstStage + s - 1) * parts + p].Leaf).CopyTo(end[Blocks.Block(p)]);
            }
            else
            {
                Combine(y0, h, tableau.B, firstStage, end);
            }
            if (Blocks.BlockMajor) ToOutside(end, y1);
        }
        return firstStage;
    }

    /// <summary>destination = y0 + Σ_j (h·w_j)·k_j over the step's stages (the engine's arithmetic, zero weights skipped).</summary>
    private void Combine(ReadOnlySpan<T> y0, double h, ReadOnlySpan<double> weights, int firstStage, Span<T> destination)
    {
        if (!y0.Overlaps(destination)) y0.CopyTo(destination);
        for (int j = 0; j < weights.Length; j++)
        {
            T cj = T.CreateTruncating(h * weights[j]);
            if (cj == T.Zero) continue;
            for (int p = 0; p < parts; p++)
            {
                var block = destination[Blocks.Block(p)];
                TensorPrimitives.MultiplyAdd(DerivativeBlock(firstStage + j, p), cj, block, block);
            }
        }
    }

    /// <summary>Adds (∂f/∂y)ᵀ·cotangent of a record into <paramref name="gradY"/> and (∂f/∂θ)ᵀ·cotangent into the sink.</summary>
    public void AccumulateVjp(int record, ReadOnlySpan<T> cotangent, Span<T> gradY, GradientSink<T> sink)
    {
        if (!Blocks.BlockMajor)
        {
            SweepRecord(record, cotangent, gradY, sink);
        }
        else
        {
            ToInside(gradY, insideStateCotangent);
            SweepRecord(record, ToInside(cotangent, inside), insideStateCotangent, sink);
            ToOutside(insideStateCotangent, gradY);
        }
        Blocks.FlushGradients(sink);
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
    /// <remarks>Every operation here is row-wise, so with row blocks each block runs the whole pass on its own rows, in one pool run.</remarks>
    public void StepVjp(int firstStage, double h, Span<T> yBar, Span<T> kBar, GradientSink<T> sink)
    {
        stepVjp ??= new StepVjpWork(this);
        if (!Blocks.BlockMajor)
        {
            stepVjp.Run(firstStage, h, yBar, kBar, sink);
        }
        else
        {
            ToInside(yBar, insideStateCotangent);
            for (int i = 0; i < tableau.Stages; i++) ToInside(kBar.Slice(i * n, n), insideStageCotangent.AsSpan(i * n, n));
            stepVjp.Run(firstStage, h, insideStateCotangent, insideStageCotangent, sink);
            ToOutside(insideStateCotangent, yBar);
            for (int i = 0; i < tableau.Stages; i++) ToOutside(insideStageCotangent.AsSpan(i * n, n), kBar.Slice(i * n, n));
        }
        Blocks.FlushGradients(sink);
    }

    private RowParallelTapes<T> Blocks => blocks ?? throw new InvalidOperationException("The recorder has no dynamics bound yet.");

    private ReadOnlySpan<T> DerivativeBlock(int record, int part) => Blocks.Tape(part).Value(stages[record * parts + part].Output);

    private void SweepRecord(int record, ReadOnlySpan<T> cotangent, Span<T> gradY, GradientSink<T> sink)
    {
        VjpCount++;
        Blocks.Sweep(CollectionsMarshal.AsSpan(stages).Slice(record * parts, parts), cotangent, gradY, sink);
    }

    private static bool IsZero(ReadOnlySpan<T> values) => values.IndexOfAnyExcept(T.Zero) < 0;

    /// <summary>One step's reverse pass, block by block: block p touches only its rows of ȳ, k̄ and the stage scratch.</summary>
    private sealed unsafe class StepVjpWork(StepRecorder<T> recorder) : IParallelWork
    {
        private readonly int[] swept = new int[recorder.parts];
        private int firstStage;
        private double h;
        private T* yBar;
        private T* kBar;
        private GradientSink<T> sink;

        public void Run(int first, double stepSize, Span<T> stateCotangent, Span<T> stageCotangents, GradientSink<T> gradientSink)
        {
            fixed (T* py = stateCotangent, pk = stageCotangents)
            {
                firstStage = first;
                h = stepSize;
                yBar = py;
                kBar = pk;
                sink = gradientSink;
                Array.Clear(swept);
                try
                {
                    recorder.Blocks.RunBlocks(this);
                }
                finally
                {
                    yBar = kBar = null;
                    sink = default;
                }
            }
            recorder.VjpCount += swept.Max();
        }

        public void Execute(int part, int partCount)
        {
            var tableau = recorder.tableau;
            int n = recorder.n, s = tableau.Stages;
            var (offset, length) = recorder.Blocks.Block(part).GetOffsetAndLength(n);
            var yBarBlock = new Span<T>(yBar + offset, length);
            Span<T> KBar(int stage) => new(kBar + stage * n + offset, length);

            ReadOnlySpan<double> b = tableau.IsFsal ? tableau.ARow(s - 1) : tableau.B;
            for (int j = 0; j < b.Length; j++)
            {
                T cj = T.CreateTruncating(h * b[j]);
                if (cj != T.Zero) TensorPrimitives.MultiplyAdd(yBarBlock, cj, KBar(j), KBar(j));
            }
            // ȳ0 starts as ȳ1 (y1 = y0 + …); each stage adds its Ȳ_i, which also flows to the earlier stages' k̄_j.
            var yStage = recorder.stageState.AsSpan(offset, length);
            for (int i = s - 1; i >= 0; i--)
            {
                var kBarI = KBar(i);
                if (IsZero(kBarI)) continue;
                yStage.Clear();
                recorder.Blocks.SweepBlock(part, recorder.stages[(firstStage + i) * recorder.parts + part], kBarI, yStage, sink);
                swept[part]++;
                TensorPrimitives.Add(yBarBlock, yStage, yBarBlock);
                ReadOnlySpan<double> a = i > 0 ? tableau.ARow(i) : default;
                for (int j = 0; j < a.Length; j++)
                {
                    T cj = T.CreateTruncating(h * a[j]);
                    if (cj != T.Zero) TensorPrimitives.MultiplyAdd(yStage, cj, KBar(j), KBar(j));
                }
            }
        }
    }
}
