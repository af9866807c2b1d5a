using System.Numerics;
using System.Runtime.CompilerServices;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.AutoDiff;

/// <summary>A reverse-mode autodiff tape: a flat, topologically ordered list of recorded ops over chunked arenas.</summary>
/// <typeparam name="T">The element type, <see cref="float"/> or <see cref="double"/>.</typeparam>
/// <remarks>
/// <para>
/// Ops (see <see cref="Ops"/>) append a node and write its value into the value arena; <see cref="Backward(Var{T}, ReadOnlySpan{T}, GradientSink{T})"/>
/// walks the nodes once in reverse, each op adding (never assigning) its inputs' gradients, so a value used twice
/// receives both contributions. Gradient buffers are made lazily, only for nodes the sweep reaches.
/// </para>
/// <para>
/// Both arenas are chunked: fixed blocks (<c>chunkLength</c> elements, or one request if larger) that are never
/// copied when the tape grows and never exceed 2^31 elements. <see cref="Reset"/> forgets every node but keeps the
/// blocks, so after one warm-up iteration a training loop allocates nothing. A tape is not thread-safe: use one per
/// thread.
/// </para>
/// </remarks>
public sealed class Tape<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The default arena block length in elements (1 Mi: 4 MiB of float, 8 MiB of double).</summary>
    public const int DefaultChunkLength = 1 << 20;

    private readonly Arena<T> values;
    private readonly Arena<T> gradients;
    private readonly List<ParameterSet<T>> sets = [];
    private readonly List<ICustomBackward<T>> customOps = [];
    // The values of transient nodes (see PushTransient): one buffer, overwritten by each one recorded or recomputed.
    private T[] transient = [];
    private const int TransientChunk = int.MinValue;
    private TapeNode[] nodes = new TapeNode[256];
    private int count;
    private int epoch;
    private GradientSink<T> sink;

    /// <summary>Creates an empty tape.</summary>
    /// <param name="chunkLength">The arena block length in elements.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunkLength"/> is not positive.</exception>
    public Tape(int chunkLength = DefaultChunkLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkLength);
        values = new Arena<T>(chunkLength);
        gradients = new Arena<T>(chunkLength);
    }

    /// <summary>How many times the tape has been reset: handles and resources recorded in an earlier epoch are stale.</summary>
    internal int Epoch => epoch;

    /// <summary>The number of recorded nodes.</summary>
    public int Count => count;

    /// <summary>Bytes of the value arena handed out since the last reset: what the recorded activations occupy.</summary>
    public long ValueBytesInUse => values.ElementsInUse * Unsafe.SizeOf<T>();

    /// <summary>Bytes held by the value and gradient arenas' blocks.</summary>
    public long BytesReserved => (values.ElementsReserved + gradients.ElementsReserved) * Unsafe.SizeOf<T>();

    /// <summary>Forgets every recorded node (handles become invalid) but keeps the arenas' memory for reuse.</summary>
    public void Reset()
    {
        count = 0;
        epoch++;
        values.Reset();
        gradients.Reset();
        sets.Clear();
        customOps.Clear();
    }

    /// <summary>Records a constant: a copy of <paramref name="data"/> that receives no gradient.</summary>
    /// <param name="data">The values, row-major.</param>
    /// <param name="shape">The shape; its length must equal the data's.</param>
    /// <returns>The handle.</returns>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public Var<T> Constant(ReadOnlySpan<T> data, Shape shape) => Leaf(OpKind.Constant, data, shape, requiresGrad: false);

    /// <summary>Records a constant row vector (1 × n).</summary>
    /// <param name="data">The values.</param>
    /// <returns>The handle.</returns>
    public Var<T> Constant(ReadOnlySpan<T> data) => Constant(data, new Shape(1, data.Length));

    /// <summary>Records a constant with every element equal to <paramref name="value"/>.</summary>
    /// <param name="shape">The shape.</param>
    /// <param name="value">The value of every element.</param>
    /// <returns>The handle.</returns>
    public Var<T> Full(Shape shape, T value)
    {
        if (shape.Rows < 0 || shape.Cols < 0) ThrowHelper.OutOfRange(nameof(shape), shape, "Sizes must be non-negative.");
        int index = Push(OpKind.Constant, shape, requiresGrad: false);
        Value(index).Fill(value);
        return new Var<T>(this, index, epoch);
    }

    /// <summary>Records a 1 × 1 constant.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The handle.</returns>
    public Var<T> Scalar(T value) => Constant([value], Shape.Scalar);

    /// <summary>Records a leaf that receives a gradient (read it with <see cref="Var{T}.Gradient"/> after a sweep).</summary>
    /// <param name="data">The values, row-major.</param>
    /// <param name="shape">The shape; its length must equal the data's.</param>
    /// <returns>The handle.</returns>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public Var<T> Variable(ReadOnlySpan<T> data, Shape shape) => Leaf(OpKind.Variable, data, shape, requiresGrad: true);

    /// <summary>Records a parameter tensor as a leaf without copying it; its gradient goes where the sweep's sink says.</summary>
    /// <param name="parameter">The parameter (its set is frozen from now on).</param>
    /// <returns>The handle.</returns>
    public Var<T> Parameter(Parameter<T> parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        int setIndex = sets.IndexOf(parameter.Set);
        if (setIndex < 0)
        {
            setIndex = sets.Count;
            sets.Add(parameter.Set);
        }
        _ = parameter.Set.FrozenValues;
        int index = NewNode(OpKind.Parameter, parameter.Shape, requiresGrad: true);
        ref var node = ref nodes[index];
        node.ValueChunk = -1 - setIndex;
        node.ValueOffset = parameter.Offset;
        node.IntArg0 = setIndex;
        return new Var<T>(this, index, epoch);
    }

    /// <summary>Runs the reverse sweep from a scalar output with seed 1, into the parameters' own gradients.</summary>
    /// <param name="output">A 1 × 1 value, usually a loss.</param>
    /// <exception cref="ArgumentException">The output is not a scalar.</exception>
    public void Backward(Var<T> output)
    {
        int index = Check(output, nameof(output));
        if (nodes[index].Shape.Length != 1)
            ThrowHelper.ShapeMismatch(nameof(output), $"Backward without a seed needs a 1×1 output, not {nodes[index].Shape}; pass a seed (cotangent) of the output's length.");
        Span<T> one = [T.One];
        Backward(output, one, GradientSink<T>.ParameterGradients);
    }

    /// <summary>Runs the reverse sweep from <paramref name="output"/> with the cotangent <paramref name="seed"/>.</summary>
    /// <param name="output">The value to differentiate.</param>
    /// <param name="seed">The cotangent: ∂L/∂output, of the output's length, all finite.</param>
    /// <param name="sink">Where parameter gradients accumulate.</param>
    /// <remarks>
    /// Computes the vector–Jacobian product seedᵀ·∂output/∂(every leaf). Parameter gradients are added to what the
    /// sink already holds; every other node's gradient starts from zero in each sweep.
    /// </remarks>
    /// <exception cref="ArgumentException">The seed's length differs from the output's, or it holds a non-finite value.</exception>
    public void Backward(Var<T> output, ReadOnlySpan<T> seed, GradientSink<T> sink)
    {
        int outputIndex = Check(output, nameof(output));
        int length = nodes[outputIndex].Shape.Length;
        if (seed.Length != length) ThrowHelper.LengthMismatch(nameof(seed), seed.Length, length);
        for (int i = 0; i < seed.Length; i++)
        {
            if (!T.IsFinite(seed[i])) ThrowHelper.NonFinite(nameof(seed), i, double.CreateTruncating(seed[i]));
        }
        if (sink.Redirected is { } redirected && sink.Destination.Length != redirected.Length)
            ThrowHelper.LengthMismatch(nameof(sink), sink.Destination.Length, redirected.Length);

        Sweep(0, outputIndex, seed, sink);
    }

    /// <summary>
    /// The reverse sweep over nodes [first, output] only, in time proportional to their number: lets one tape hold many
    /// independent sub-graphs (the stages of a solve) and differentiate each alone. Every input of a node in the range
    /// must itself lie in the range or be a parameter; read leaf gradients with <see cref="Gradient(int)"/>.
    /// </summary>
    internal void Sweep(int first, int outputIndex, ReadOnlySpan<T> seed, GradientSink<T> sink)
    {
        gradients.Reset();
        for (int i = first; i <= outputIndex; i++) nodes[i].GradChunk = -1;
        this.sink = sink;
        try
        {
            if (!nodes[outputIndex].RequiresGrad) return;
            var seedTarget = GradSpan(outputIndex);
            System.Numerics.Tensors.TensorPrimitives.Add(seedTarget, seed, seedTarget);
            for (int i = outputIndex; i >= first; i--)
            {
                ref var node = ref nodes[i];
                if (!node.RequiresGrad || node.GradChunk < 0 || node.Op <= OpKind.Parameter) continue;
                // A transient input's value was overwritten after this node read it: recompute it for this node's
                // backward and its own, which the sweep reaches before any other transient node is recorded or read.
                if (node.Input0 >= 0 && nodes[node.Input0].ValueChunk == TransientChunk) Ops.RecomputeTransient(this, node.Input0);
                OpBackward.Run(this, i);
            }
        }
        finally
        {
            this.sink = default;
        }
    }

    // ---- Internal API used by the ops. ----

    internal ref TapeNode Node(int index) => ref nodes[index];

    internal int Check(Var<T> v, string paramName)
    {
        if (!ReferenceEquals(v.Tape, this)) ThrowHelper.ForeignHandle(paramName);
        if (v.Epoch != epoch || v.Index >= count) ThrowHelper.StaleHandle(paramName, v.Epoch, epoch);
        return v.Index;
    }

    internal Shape ShapeOf(Var<T> v) => nodes[Check(v, "value")].Shape;

    internal ReadOnlySpan<T> ValueOf(Var<T> v) => Value(Check(v, "value"));

    internal ReadOnlySpan<T> GradientOf(Var<T> v)
    {
        int index = Check(v, "value");
        ref var node = ref nodes[index];
        if (node.Op == OpKind.Parameter)
            return sets[node.IntArg0].FrozenGradients.AsSpan(node.ValueOffset, node.Shape.Length);
        return GradSpan(index);
    }

    internal Var<T> Handle(int index) => new(this, index, epoch);

    /// <summary>The gradient buffer of a node after a sweep (created zeroed if the sweep did not reach it).</summary>
    internal Span<T> Gradient(int index) => GradSpan(index);

    /// <summary>Appends a node whose backward is <paramref name="op"/>; its value buffer is uninitialised.</summary>
    internal int PushCustom(ICustomBackward<T> op, Shape shape, bool requiresGrad, int input0 = -1, int input1 = -1, int input2 = -1)
    {
        int index = Push(OpKind.Custom, shape, requiresGrad, input0, input1, input2);
        nodes[index].IntArg0 = customOps.Count;
        customOps.Add(op);
        return index;
    }

    internal ICustomBackward<T> CustomBackwardOf(int index) => customOps[nodes[index].IntArg0];

    /// <summary>Where the current sweep accumulates the gradients of <paramref name="set"/> (its own, or the sink's buffer).</summary>
    internal Span<T> ParameterGradients(ParameterSet<T> set) =>
        ReferenceEquals(set, sink.Redirected) ? sink.Destination.Span : set.FrozenGradients.AsSpan(0, set.Length);

    /// <summary>Whether any parameter recorded since the last reset belongs to a set other than <paramref name="set"/>.</summary>
    internal bool UsesParameterSetsOtherThan(ParameterSet<T> set)
    {
        foreach (var used in sets)
        {
            if (!ReferenceEquals(used, set)) return true;
        }
        return false;
    }

    /// <summary>A position on the tape to roll back to (e.g. to drop the nodes of a rejected step).</summary>
    internal TapeMark Mark() => new(count, customOps.Count, sets.Count, values.Mark());

    /// <summary>Forgets every node recorded after <paramref name="mark"/>, reusing their memory.</summary>
    internal void Rollback(TapeMark mark)
    {
        count = mark.Count;
        values.Rollback(mark.Values);
        if (customOps.Count > mark.CustomOps) customOps.RemoveRange(mark.CustomOps, customOps.Count - mark.CustomOps);
        if (sets.Count > mark.Sets) sets.RemoveRange(mark.Sets, sets.Count - mark.Sets);
    }

    /// <summary>Appends a node with a fresh value buffer (uninitialised) and returns its index.</summary>
    internal int Push(OpKind op, Shape shape, bool requiresGrad, int input0 = -1, int input1 = -1, int input2 = -1)
    {
        int index = NewNode(op, shape, requiresGrad);
        ref var node = ref nodes[index];
        node.Input0 = input0;
        node.Input1 = input1;
        node.Input2 = input2;
        (node.ValueChunk, node.ValueOffset) = values.Allocate(shape.Length);
        return index;
    }

    /// <summary>
    /// Records a node whose value is not kept: it lives in one buffer that the next transient node overwrites, so only
    /// the node recorded right after it (its sole consumer, as input 0) may read it, and the reverse sweep recomputes it
    /// (<see cref="Ops.RecomputeTransient{T}"/>) before that consumer's backward.
    /// </summary>
    internal int PushTransient(OpKind op, Shape shape, bool requiresGrad, int input0, int input1, int input2)
    {
        int index = NewNode(op, shape, requiresGrad);
        ref var node = ref nodes[index];
        node.Input0 = input0;
        node.Input1 = input1;
        node.Input2 = input2;
        node.ValueChunk = TransientChunk;
        if (transient.Length < shape.Length) transient = GC.AllocateUninitializedArray<T>(shape.Length);
        return index;
    }

    internal bool RequiresGrad(int index) => nodes[index].RequiresGrad;

    internal Span<T> Value(int index)
    {
        ref var node = ref nodes[index];
        if (node.ValueChunk >= 0) return values.Get(node.ValueChunk, node.ValueOffset, node.Shape.Length);
        return node.ValueChunk == TransientChunk
            ? transient.AsSpan(0, node.Shape.Length)
            : sets[-1 - node.ValueChunk].FrozenValues.AsSpan(node.ValueOffset, node.Shape.Length);
    }

    /// <summary>Reserves an extra saved buffer for a node (forward only).</summary>
    internal Span<T> AllocateAux(int index, int length)
    {
        ref var node = ref nodes[index];
        (node.AuxChunk, node.AuxOffset) = values.Allocate(length);
        node.IntArg1 = length;
        return values.Get(node.AuxChunk, node.AuxOffset, length);
    }

    internal Span<T> Aux(int index)
    {
        ref var node = ref nodes[index];
        return values.Get(node.AuxChunk, node.AuxOffset, node.IntArg1);
    }

    /// <summary>The gradient buffer of a node, created zeroed on first use; a parameter's is the sink's slice.</summary>
    internal Span<T> GradSpan(int index)
    {
        ref var node = ref nodes[index];
        if (node.Op == OpKind.Parameter)
        {
            var set = sets[node.IntArg0];
            return ReferenceEquals(set, sink.Redirected)
                ? sink.Destination.Span.Slice(node.ValueOffset, node.Shape.Length)
                : set.FrozenGradients.AsSpan(node.ValueOffset, node.Shape.Length);
        }
        if (node.GradChunk < 0)
        {
            (node.GradChunk, node.GradOffset) = gradients.Allocate(node.Shape.Length);
            var fresh = gradients.Get(node.GradChunk, node.GradOffset, node.Shape.Length);
            fresh.Clear();
            return fresh;
        }
        return gradients.Get(node.GradChunk, node.GradOffset, node.Shape.Length);
    }

    /// <summary>Temporary space for a backward op; valid until the next sweep.</summary>
    internal Span<T> Scratch(int length)
    {
        var (chunk, offset) = gradients.Allocate(length);
        return gradients.Get(chunk, offset, length);
    }

    private int NewNode(OpKind op, Shape shape, bool requiresGrad)
    {
        if (count == nodes.Length) Array.Resize(ref nodes, nodes.Length * 2);
        int index = count++;
        nodes[index] = new TapeNode
        {
            Op = op,
            Shape = shape,
            RequiresGrad = requiresGrad,
            Input0 = -1,
            Input1 = -1,
            Input2 = -1,
            GradChunk = -1,
            AuxChunk = -1,
        };
        return index;
    }

    private Var<T> Leaf(OpKind op, ReadOnlySpan<T> data, Shape shape, bool requiresGrad)
    {
        if (shape.Rows < 0 || shape.Cols < 0) ThrowHelper.OutOfRange(nameof(shape), shape, "Sizes must be non-negative.");
        if (data.Length != shape.Length) ThrowHelper.LengthMismatch(nameof(data), data.Length, shape.Length);
        int index = Push(op, shape, requiresGrad);
        data.CopyTo(Value(index));
        return new Var<T>(this, index, epoch);
    }
}

/// <summary>A position on a tape to roll back to.</summary>
internal readonly record struct TapeMark(int Count, int CustomOps, int Sets, ArenaMark Values);
