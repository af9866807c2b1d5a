using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.AutoDiff.Threading;

namespace NeuralOde.Core.Dynamics;

/// <summary>
/// Records evaluations of row-independent dynamics (<see cref="IDifferentiableDynamics{T}.IndependentRows"/>) as one
/// sub-graph per block of rows, each block on its own tape and run on its own core of <see cref="WorkerPool.Shared"/>;
/// with one block it is a single tape used on the calling thread.
/// </summary>
/// <remarks>
/// Block p always holds the same rows (<see cref="RowSplit.Start"/>, on multiples of 16 rows), so a block's tape memory
/// is written by one thread at a time, and rows of f and ∂f/∂y are bitwise those of an unsplit evaluation (every GEMM
/// element is the same chain of fused multiply–adds; element-wise kernels see the same lanes and the same tail). Parameter gradients of the
/// blocks go to private buffers (two blocks must not add into one vector at once) and are summed in block order when
/// the caller flushes them. A class cannot hold spans, so a run pins its operands and hands the blocks pointers.
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
internal sealed unsafe class RowParallelTapes<T> : IParallelWork
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private enum Job { Record, Sweep, Evaluate, EvaluateAndVjp }

    private readonly Tape<T>[] tapes;
    private readonly Shape[] blockShapes;
    private readonly int[] offsets;
    private readonly T[][] partialGradients;
    private readonly StageRecord[] records;
    private readonly ParameterSet<T> parameters;
    private readonly IDifferentiableDynamics<T> f;
    // Row groups (a CNF's [z | Δ | …]) split into blocks: states come in block-major order (see BlockMajor).
    private readonly RowGroups? blockMajorLayout;
    private readonly TapeDynamics<T>? groupedDynamics;
    private readonly int[] firstRows = [];
    private Job job;
    private double time;
    private T* y;
    private T* values;
    private T* cotangent;
    private T* gradY;
    private bool gradientsPending;

    /// <summary>Sets up the tapes for <paramref name="dynamics"/> split into <paramref name="parts"/> row blocks.</summary>
    /// <param name="dynamics">The dynamics; with more than one block every parameter must be in its <see cref="IDifferentiableDynamics{T}.Parameters"/>.</param>
    /// <param name="stateShape">The state's layout, the shape of the one block when there is no split.</param>
    /// <param name="parts">The number of blocks (<see cref="RowSplit.Parts"/>).</param>
    /// <param name="chunkLength">The arena chunk length for the whole state; each block's tape gets its share.</param>
    public RowParallelTapes(IDifferentiableDynamics<T> dynamics, Shape stateShape, int parts, int chunkLength)
    {
        f = dynamics;
        parameters = dynamics.Parameters;
        int rows = parts == 1 ? 1 : dynamics.IndependentRows;
        int columns = dynamics.Dimension / rows;
        tapes = new Tape<T>[parts];
        blockShapes = new Shape[parts];
        offsets = new int[parts + 1];
        partialGradients = new T[parts][];
        records = new StageRecord[parts];
        for (int p = 0; p < parts; p++)
        {
            tapes[p] = new Tape<T>(Math.Max(1 << 12, chunkLength / parts));
            int start = RowSplit.Start(rows, p, parts), end = RowSplit.Start(rows, p + 1, parts);
            blockShapes[p] = parts == 1 ? stateShape : new Shape(end - start, columns);
            offsets[p] = start * columns;
            partialGradients[p] = new T[parameters.Length];
        }
        offsets[parts] = dynamics.Dimension;
    }

    /// <summary>
    /// Sets up the tapes for dynamics whose state is column groups over independent rows (<see cref="RowGroups"/>),
    /// split into <paramref name="parts"/> row blocks, each recorded with <see cref="TapeDynamics{T}.RecordRows"/>.
    /// With more than one block every job takes its states in block-major order (<see cref="BlockMajor"/>).
    /// </summary>
    /// <param name="dynamics">The dynamics.</param>
    /// <param name="layout">Their row groups.</param>
    /// <param name="parts">The number of row blocks.</param>
    /// <param name="chunkLength">The arena chunk length for the whole state.</param>
    public RowParallelTapes(TapeDynamics<T> dynamics, RowGroups layout, int parts, int chunkLength)
        : this(dynamics, dynamics.StateShape, 1, chunkLength)
    {
        if (parts == 1) return;
        blockMajorLayout = layout;
        groupedDynamics = dynamics;
        offsets = new int[parts + 1];
        records = new StageRecord[parts];
        tapes = new Tape<T>[parts];
        blockShapes = new Shape[parts];
        firstRows = new int[parts + 1];
        partialGradients = new T[parts][];
        for (int p = 0; p < parts; p++)
        {
            tapes[p] = new Tape<T>(Math.Max(1 << 12, chunkLength / parts));
            int start = RowSplit.Start(layout.Rows, p, parts), end = RowSplit.Start(layout.Rows, p + 1, parts);
            firstRows[p] = start;
            offsets[p] = start * layout.Columns;
            blockShapes[p] = new Shape((end - start) * layout.Columns, 1);
            partialGradients[p] = new T[parameters.Length];
        }
        firstRows[parts] = layout.Rows;
        offsets[parts] = dynamics.Dimension;
    }

    /// <summary>
    /// Whether states are exchanged in block-major order: row groups split into blocks, block p's rows of every group
    /// gathered into elements <see cref="Block"/>(p) as a state of the same layout over those rows. Every row-wise
    /// operation on the state (stages, their combinations, the reverse pass) then runs on contiguous blocks.
    /// </summary>
    public bool BlockMajor => blockMajorLayout is not null;

    /// <summary>Writes <paramref name="state"/> (the dynamics' order) into <paramref name="destination"/> in block-major order.</summary>
    public void ToBlockMajor(ReadOnlySpan<T> state, Span<T> destination)
    {
        CheckLength(state.Length, nameof(state));
        for (int p = 0; p < tapes.Length; p++)
            blockMajorLayout!.Gather(state, firstRows[p], firstRows[p + 1] - firstRows[p], destination[offsets[p]..offsets[p + 1]]);
    }

    /// <summary>Writes <paramref name="blockMajor"/> back into <paramref name="state"/> in the dynamics' order.</summary>
    public void FromBlockMajor(ReadOnlySpan<T> blockMajor, Span<T> state)
    {
        CheckLength(state.Length, nameof(state));
        for (int p = 0; p < tapes.Length; p++)
            blockMajorLayout!.Scatter(blockMajor[offsets[p]..offsets[p + 1]], firstRows[p], firstRows[p + 1] - firstRows[p], state);
    }

    /// <summary>The dynamics the blocks record.</summary>
    public IDifferentiableDynamics<T> Dynamics => f;

    /// <summary>Block p's tape.</summary>
    public Tape<T> Tape(int part) => tapes[part];

    /// <summary>The element range of block p in the flat state.</summary>
    public Range Block(int part) => offsets[part]..offsets[part + 1];

    /// <summary>Bytes of values recorded on all tapes.</summary>
    public long ValueBytesInUse
    {
        get
        {
            long bytes = 0;
            foreach (var tape in tapes) bytes += tape.ValueBytesInUse;
            return bytes;
        }
    }

    /// <summary>Forgets everything recorded, and any block gradients a failed sweep left unflushed, keeping the memory.</summary>
    public void Reset()
    {
        foreach (var tape in tapes) tape.Reset();
        if (gradientsPending)
        {
            foreach (var partial in partialGradients) Array.Clear(partial);
            gradientsPending = false;
        }
    }

    /// <summary>Records f(t, y) on every block's tape (appending to what is there) and writes the blocks' records into <paramref name="destination"/>.</summary>
    public void Record(double t, ReadOnlySpan<T> state, Span<StageRecord> destination)
    {
        CheckLength(state.Length, "y");
        Run(Job.Record, t, state, default, default, default);
        records.CopyTo(destination);
    }

    /// <summary>
    /// Sweeps back through the evaluation whose block records are <paramref name="blocks"/> with
    /// <paramref name="seed"/> as f's cotangent: adds (∂f/∂y)ᵀ·seed into <paramref name="gradState"/> and
    /// (∂f/∂θ)ᵀ·seed into <paramref name="sink"/> (with several blocks, only once <see cref="FlushGradients"/> is called).
    /// </summary>
    public void Sweep(ReadOnlySpan<StageRecord> blocks, ReadOnlySpan<T> seed, Span<T> gradState, GradientSink<T> sink)
    {
        CheckLength(seed.Length, nameof(seed));
        CheckLength(gradState.Length, nameof(gradState));
        if (tapes.Length == 1)
        {
            SweepBlock(0, blocks[0], seed, gradState, sink);
            return;
        }
        blocks.CopyTo(records);
        gradientsPending = true;
        Run(Job.Sweep, 0, default, default, seed, gradState);
    }

    /// <summary>
    /// Runs <paramref name="work"/> once per block (block p as part p), on the pool when there are several; each part
    /// may sweep its block's records with <see cref="SweepBlock"/>. Gradients reach the sink at <see cref="FlushGradients"/>.
    /// </summary>
    public void RunBlocks(IParallelWork work)
    {
        if (tapes.Length == 1)
        {
            work.Execute(0, 1);
            return;
        }
        gradientsPending = true;
        WorkerPool.Shared.Run(work, tapes.Length);
    }

    /// <summary>
    /// Inside a part of <see cref="RunBlocks"/>: sweeps block <paramref name="part"/>'s record with the block's
    /// <paramref name="seed"/>, adding the block's (∂f/∂y)ᵀ·seed into <paramref name="gradState"/> (the block's slice)
    /// and (∂f/∂θ)ᵀ·seed into <paramref name="sink"/> when unsplit, else into the block's buffer.
    /// </summary>
    public void SweepBlock(int part, StageRecord record, ReadOnlySpan<T> seed, Span<T> gradState, GradientSink<T> sink)
    {
        var tape = tapes[part];
        tape.Sweep(record.First, record.Output, seed, tapes.Length == 1 ? sink : GradientSink<T>.Into(parameters, partialGradients[part]));
        TensorPrimitives.Add(gradState, tape.Gradient(record.Leaf), gradState);
    }

    /// <summary>Adds the blocks' parameter gradients since the last flush into <paramref name="sink"/>, in block order, and clears them.</summary>
    public void FlushGradients(GradientSink<T> sink)
    {
        if (!gradientsPending) return;
        gradientsPending = false;
        Span<T> target = ReferenceEquals(sink.Redirected, parameters) ? sink.Destination.Span : parameters.Gradients;
        foreach (var partial in partialGradients.AsSpan(0, tapes.Length))
        {
            TensorPrimitives.Add(target, partial, target);
            Array.Clear(partial);
        }
    }

    /// <summary>f(t, y) into <paramref name="dydt"/>, each block on a tape reset for the call.</summary>
    /// <exception cref="ArgumentException">A span's length is not the dynamics' dimension.</exception>
    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        CheckLength(y.Length, nameof(y));
        CheckLength(dydt.Length, nameof(dydt));
        Run(Job.Evaluate, t, y, dydt, default, default);
    }

    /// <summary>
    /// f(t, y) into <paramref name="dydt"/> (skipped when empty), cotangentᵀ·∂f/∂y into <paramref name="gradY"/> and
    /// cotangentᵀ·∂f/∂θ into <paramref name="gradTheta"/>, overwriting all three; each block on a tape reset for the call.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length is not the dynamics' dimension (θ's length for <paramref name="gradTheta"/>).</exception>
    public void EvaluateAndVjp(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> cotangent, Span<T> dydt, Span<T> gradY, Span<T> gradTheta)
    {
        CheckLength(y.Length, nameof(y));
        CheckLength(cotangent.Length, nameof(cotangent));
        if (!dydt.IsEmpty) CheckLength(dydt.Length, nameof(dydt));
        CheckLength(gradY.Length, nameof(gradY));
        if (gradTheta.Length != parameters.Length)
            throw new ArgumentException($"{nameof(gradTheta)} has {gradTheta.Length} elements; the parameters have {parameters.Length}.", nameof(gradTheta));
        Run(Job.EvaluateAndVjp, t, y, dydt, cotangent, gradY);
        partialGradients[0].CopyTo(gradTheta);
        for (int p = 1; p < partialGradients.Length; p++) TensorPrimitives.Add(gradTheta, partialGradients[p], gradTheta);
    }

    private void Run(Job next, double t, ReadOnlySpan<T> state, Span<T> output, ReadOnlySpan<T> seed, Span<T> gradState)
    {
        fixed (T* ps = state, po = output, pc = seed, pg = gradState)
        {
            job = next;
            time = t;
            y = ps;
            values = output.IsEmpty ? null : po;
            cotangent = pc;
            gradY = pg;
            try
            {
                if (tapes.Length == 1) Execute(0, 1);
                else WorkerPool.Shared.Run(this, tapes.Length);
            }
            finally
            {
                y = values = cotangent = gradY = null;
            }
        }
    }

    /// <inheritdoc/>
    public void Execute(int part, int partCount)
    {
        var tape = tapes[part];
        var shape = blockShapes[part];
        int offset = offsets[part], length = shape.Length;
        switch (job)
        {
            case Job.Record:
            {
                int first = tape.Count;
                var leaf = tape.Variable(new ReadOnlySpan<T>(y + offset, length), shape);
                int output = CheckedOutput(tape, RecordBlock(part, tape, leaf), shape);
                records[part] = new StageRecord(leaf.Index, first, output);
                break;
            }
            case Job.Sweep:
                SweepBlock(part, records[part], new ReadOnlySpan<T>(cotangent + offset, length), new Span<T>(gradY + offset, length), default);
                break;
            case Job.Evaluate:
            {
                tape.Reset();
                int output = CheckedOutput(tape, RecordBlock(part, tape, tape.Constant(new ReadOnlySpan<T>(y + offset, length), shape)), shape);
                tape.Value(output).CopyTo(new Span<T>(values + offset, length));
                break;
            }
            case Job.EvaluateAndVjp:
            {
                tape.Reset();
                var x = tape.Variable(new ReadOnlySpan<T>(y + offset, length), shape);
                var fx = RecordBlock(part, tape, x);
                int output = CheckedOutput(tape, fx, shape);
                if (values != null) tape.Value(output).CopyTo(new Span<T>(values + offset, length));
                var seed = new ReadOnlySpan<T>(cotangent + offset, length);
                Array.Clear(partialGradients[part]);
                tape.Backward(fx, seed, GradientSink<T>.Into(parameters, partialGradients[part]));
                x.Gradient.CopyTo(new Span<T>(gradY + offset, length));
                break;
            }
        }
    }

    /// <summary>f of block <paramref name="part"/>'s state: its rows of row-grouped dynamics, or the block as a state of its own.</summary>
    private Var<T> RecordBlock(int part, Tape<T> tape, Var<T> state) =>
        groupedDynamics is null ? f.Record(tape, time, state) : groupedDynamics.RecordRows(tape, time, state, firstRows[part], firstRows[part + 1] - firstRows[part]);

    private void CheckLength(int length, string paramName)
    {
        if (length != f.Dimension) throw new ArgumentException($"{paramName} has {length} elements; the state has {f.Dimension}.", paramName);
    }

    /// <summary>The output's node, after checking it has the block's length and, with several blocks, that the block used no other parameter set.</summary>
    private int CheckedOutput(Tape<T> tape, Var<T> output, Shape shape)
    {
        int index = tape.Check(output, "output");
        if (output.Shape.Length != shape.Length)
            throw new InvalidOperationException($"The dynamics' Record returned a {output.Shape} value for a {shape} state.");
        if (tapes.Length > 1 && tape.UsesParameterSetsOtherThan(parameters))
            throw new InvalidOperationException("Dynamics that declare independent rows are recorded in row blocks on several threads, so every parameter they record must belong to their Parameters set.");
        return index;
    }
}
