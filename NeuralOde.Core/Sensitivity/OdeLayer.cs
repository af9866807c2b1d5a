using System.Numerics;
using System.Runtime.CompilerServices;
using NeuralOde.AutoDiff;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Sensitivity;

/// <summary>An ODE solve recorded on a tape as one node: its value is the states at the saved times, its backward a sensitivity.</summary>
/// <remarks>
/// Non-finite gradients are never passed on silently, whatever the strategy: if a backward pass produces a NaN or
/// infinite dL/dθ or dL/dy0, <see cref="Tape{T}.Backward(Var{T})"/> throws <see cref="NonFiniteGradientException"/>
/// naming the strategy and the first non-finite parameter and index (Adjoint and Reversible, which meet the NaN while
/// carrying the adjoint backwards, name the time instead; the adjoint's <see cref="OdeSolverException"/> is the inner
/// exception). The check costs two SIMD sums over θ per backward pass and allocates nothing. To keep a NaN produced
/// elsewhere out of the parameters, set an optimizer's <c>NonFiniteGradients</c> policy.
/// </remarks>
/// <example>
/// <code>
/// var tape = new Tape&lt;float&gt;();
/// var solve = OdeLayer.Solve(tape, f, tape.Constant(y0, new Shape(256, 2)), SaveAt.End(0, 1), options, new Adjoint());
/// var loss = Ops.Sum(Ops.Square(solve.States));
/// tape.Backward(loss);            // dL/dθ lands in f.Parameters.Gradients
/// </code>
/// </example>
public static class OdeLayer
{
    private static readonly ConditionalWeakTable<ISensitivity, GradientPool> Pools = [];

    /// <summary>Solves y' = f(t, y) from <paramref name="y0"/> and records the solve on <paramref name="tape"/>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="tape">The tape.</param>
    /// <param name="f">The dynamics; their parameters receive dL/dθ in the reverse sweep (subject to its sink).</param>
    /// <param name="y0">The initial state, in the dynamics' layout (e.g. B × D); its length must be f.Dimension.</param>
    /// <param name="saveAt">The times; the first is t0.</param>
    /// <param name="options">Method, controller, tolerances; null for the defaults.</param>
    /// <param name="sensitivity">How the gradient flows back (default <see cref="Backprop"/>); reuse one instance across iterations so its buffers are reused.</param>
    /// <returns>The solve node: <see cref="OdeSolveNode{T}.States"/> stacks the saved states by rows (time-major), and the statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid.</exception>
    /// <exception cref="OdeSolverException">The forward solve failed.</exception>
    public static OdeSolveNode<T> Solve<T>(Tape<T> tape, IDifferentiableDynamics<T> f, Var<T> y0, SaveAt saveAt, SolveOptions? options = null, ISensitivity? sensitivity = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(saveAt);
        return Record(tape, f, y0, saveAt, 0, 0, options, sensitivity);
    }

    /// <summary>Records the solve over <paramref name="saveAt"/>, or when it is null over t0 → t1 on the node's own (reused) selection.</summary>
    private static OdeSolveNode<T> Record<T>(Tape<T> tape, IDifferentiableDynamics<T> f, Var<T> y0, SaveAt? saveAt, double t0, double t1, SolveOptions? options, ISensitivity? sensitivity)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(f);
        options ??= new SolveOptions();
        sensitivity ??= DefaultBackprop;
        int y0Index = tape.Check(y0, nameof(y0));
        var shape = y0.Shape;
        CheckLayout(f, shape);

        var node = Pools.GetValue(sensitivity, _ => new GradientPool()).Take(tape, sensitivity, shape);
        saveAt ??= node.TimeSpan(t0, t1);
        var outputShape = new Shape(saveAt.Count * shape.Rows, shape.Cols);
        bool requiresGrad = tape.RequiresGrad(y0Index) || f.Parameters.Length > 0;
        int index = tape.PushCustom(node, outputShape, requiresGrad, y0Index);
        node.Begin(f, y0Index);
        node.ForwardStats = node.Gradient.Forward(f, tape.Value(y0Index), saveAt, options, tape.Value(index));
        node.States = tape.Handle(index);
        return node;
    }

    /// <summary>Solves from t0 to t1 given as tape values, so dL/dt0 and dL/dt1 flow back (a learnable integration time).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="tape">The tape.</param>
    /// <param name="f">The dynamics.</param>
    /// <param name="y0">The initial state, in the dynamics' layout.</param>
    /// <param name="t0">The start time, 1 × 1.</param>
    /// <param name="t1">The end time, 1 × 1.</param>
    /// <param name="options">Method, controller, tolerances; null for the defaults.</param>
    /// <param name="sensitivity">How the gradient flows back (default <see cref="Backprop"/>).</param>
    /// <returns>The solve node; its <see cref="OdeSolveNode{T}.Final"/> is y(t1).</returns>
    /// <remarks>dL/dt1 = ⟨∂L/∂y(t1), f(t1, y(t1))⟩ and dL/dt0 = −⟨a(t0), f(t0, y0)⟩ with a(t0) = dL/dy0.</remarks>
    /// <exception cref="ArgumentException">A time is not 1 × 1 or not finite, or another argument is invalid.</exception>
    public static OdeSolveNode<T> Solve<T>(Tape<T> tape, IDifferentiableDynamics<T> f, Var<T> y0, Var<T> t0, Var<T> t1, SolveOptions? options = null, ISensitivity? sensitivity = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tape);
        int i0 = tape.Check(t0, nameof(t0));
        int i1 = tape.Check(t1, nameof(t1));
        if (t0.Shape.Length != 1) throw new ArgumentException($"t0 must be 1×1, not {t0.Shape}.", nameof(t0));
        if (t1.Shape.Length != 1) throw new ArgumentException($"t1 must be 1×1, not {t1.Shape}.", nameof(t1));
        double start = double.CreateTruncating(t0.Value[0]), end = double.CreateTruncating(t1.Value[0]);
        SaveAt.ValidateEnd(start, end);
        var node = Record(tape, f, y0, null, start, end, options, sensitivity);
        ref var recorded = ref tape.Node(tape.Check(node.States, nameof(y0)));
        recorded.Input1 = i0;
        recorded.Input2 = i1;
        recorded.RequiresGrad |= tape.RequiresGrad(i0) || tape.RequiresGrad(i1);
        return node;
    }

    private static readonly Backprop DefaultBackprop = new();

    /// <summary>
    /// The one layout rule, checked here for every strategy: y0 holds f.Dimension elements; dynamics with a declared
    /// state shape (<see cref="TapeDynamics{T}.StateShape"/>, e.g. an <see cref="MlpDynamics{T}"/> batch of B × D) take
    /// exactly that shape, and dynamics declaring <see cref="IDifferentiableDynamics{T}.IndependentRows"/> R &gt; 1 take
    /// R rows. A 1 × 8 or 8 × 1 y0 for a 4 × 2 batch has the right length but the wrong rows: refused.
    /// </summary>
    private static void CheckLayout<T>(IDifferentiableDynamics<T> f, Shape shape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (shape.Length != f.Dimension)
            throw new ArgumentException($"y0 is {shape} ({shape.Length} elements) but the dynamics have dimension {f.Dimension}.", "y0");
        if (f is TapeDynamics<T> declared)
        {
            if (shape != declared.StateShape)
                throw new ArgumentException($"y0 is {shape} but {f.GetType().Name} has the state shape {declared.StateShape}: give y0 that layout (rows are states of the batch).", "y0");
        }
        else if (f.IndependentRows > 1 && shape.Rows != f.IndependentRows)
        {
            throw new ArgumentException($"y0 is {shape} but {f.GetType().Name} maps {f.IndependentRows} independent rows: give y0 {f.IndependentRows} rows of {f.Dimension / f.IndependentRows}.", "y0");
        }
    }

    internal static ISolveGradient<T> Create<T>(ISensitivity sensitivity, Shape shape)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        sensitivity.CreateSolveGradient<T>(shape)
        ?? throw new ArgumentException($"The sensitivity {sensitivity.GetType().Name} created no gradient for a {shape} state.", nameof(sensitivity));

    /// <summary>Solve nodes of one sensitivity, reused once the tape they were recorded on has been reset.</summary>
    private sealed class GradientPool
    {
        private readonly List<object> nodes = [];

        public OdeSolveNode<T> Take<T>(Tape<T> tape, ISensitivity sensitivity, Shape shape)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            lock (nodes)
            {
                foreach (var candidate in nodes)
                {
                    if (candidate is OdeSolveNode<T> node && node.Shape == shape && node.IsFree) return node.Claim(tape);
                }
                var created = new OdeSolveNode<T>(Create<T>(sensitivity, shape), shape, sensitivity.GetType().Name);
                nodes.Add(created);
                return created.Claim(tape);
            }
        }
    }
}

/// <summary>A solve recorded on a tape: the saved states and what the forward and backward passes cost.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class OdeSolveNode<T> : ICustomBackward<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] gradY0;
    private Tape<T>? tape;
    private int epoch;
    private IDifferentiableDynamics<T> dynamics = null!;
    private int y0Index;
    private SaveAt? timeSpan;

    private readonly string strategy;

    internal OdeSolveNode(ISolveGradient<T> gradient, Shape shape, string strategy)
    {
        Gradient = gradient;
        Shape = shape;
        this.strategy = strategy;
        gradY0 = new T[shape.Length];
    }

    internal ISolveGradient<T> Gradient { get; }

    internal Shape Shape { get; }

    /// <summary>The saved states, stacked by rows in time order: (saved times · B) × D.</summary>
    public Var<T> States { get; internal set; }

    /// <summary>The forward solve's statistics; <see cref="SolveStats.FunctionEvaluations"/> is NFE-F: every call of f, the initial-step probe and rejected steps included.</summary>
    public SolveStats ForwardStats { get; internal set; }

    /// <summary>The backward pass's statistics (NFE-B, VJPs, recomputed steps); null until the reverse sweep has run through this node.</summary>
    /// <remarks>
    /// A different type from <see cref="ForwardStats"/> because a backward pass is not a solve: it has no rejected steps
    /// or step sizes of its own for most strategies, and it counts vector–Jacobian products, which a forward never takes.
    /// It is nullable because the forward always runs but the backward may not (inference, or a node the loss does not
    /// reach); null says "no backward yet", which a zero count would not distinguish from Backprop's genuine 0.
    /// <see cref="BackwardEvaluations"/> reads NFE-B without the null check.
    /// </remarks>
    public GradientStats? BackwardStats { get; private set; }

    /// <summary>
    /// NFE-B, the library's one definition: evaluations of f made by the backward pass, <see cref="GradientStats.FunctionEvaluations"/>
    /// (0 before the reverse sweep). For <see cref="Adjoint"/> the augmented evaluations of the backward solve (each one f
    /// and one VJP, as torchdiffeq counts them); for <see cref="Checkpointed"/> the stages it recomputes; for
    /// <see cref="Reversible"/> and <see cref="ReversibleRungeKutta"/> the evaluations that reconstruct the states; for
    /// <see cref="Backprop"/> 0, since it takes vector–Jacobian products through the stored stages and evaluates nothing
    /// (those products are in <see cref="GradientStats.VectorJacobianProducts"/>).
    /// </summary>
    public long BackwardEvaluations => BackwardStats?.FunctionEvaluations ?? 0;

    /// <summary>The state at saved time <paramref name="index"/> (a B × D slice of <see cref="States"/>).</summary>
    /// <param name="index">The saved time's index.</param>
    /// <returns>The slice, recorded on the tape.</returns>
    public Var<T> At(int index) => Ops.SliceRows(States, index * Shape.Rows, Shape.Rows);

    /// <summary>The state at the last saved time.</summary>
    public Var<T> Final => At(States.Shape.Rows / Math.Max(1, Shape.Rows) - 1);

    /// <summary>The saved states.</summary>
    /// <param name="node">The solve node.</param>
    public static implicit operator Var<T>(OdeSolveNode<T> node) => node?.States ?? default;

    internal bool IsFree => tape is null || tape.Epoch != epoch;

    internal OdeSolveNode<T> Claim(Tape<T> owner)
    {
        tape = owner;
        epoch = owner.Epoch;
        BackwardStats = null;
        return this;
    }

    /// <summary>
    /// The selection t0 → t1 of a solve over a learnable time span, overwritten in place: this node's gradient is the only
    /// reader of it, and the node is reused only once the tape it was recorded on has been reset.
    /// </summary>
    internal SaveAt TimeSpan(double t0, double t1) => SaveAt.EndInPlace(t0, t1, ref timeSpan);

    internal void Begin(IDifferentiableDynamics<T> f, int initialStateIndex)
    {
        dynamics = f;
        y0Index = initialStateIndex;
    }

    void ICustomBackward<T>.Backward(Tape<T> owner, int index)
    {
        ref var node = ref owner.Node(index);
        int t0 = node.Input1, t1 = node.Input2;
        bool timeGradients = (t0 >= 0 && owner.RequiresGrad(t0)) || (t1 >= 0 && owner.RequiresGrad(t1));
        Span<double> gradTimes = timeGradients ? stackalloc double[2] : default;
        var gradTheta = owner.ParameterGradients(dynamics.Parameters);
        bool finiteBefore = NonFiniteGradientException.FirstNonFinite<T>(gradTheta) < 0;
        GradientStats stats;
        try
        {
            stats = Gradient.Backward(owner.Gradient(index), gradY0, gradTheta, gradTimes);
        }
        catch (OdeSolverException e) when (e.Reason == SolveFailure.NonFiniteState && e.BackwardInterval is not null)
        {
            throw new NonFiniteGradientException(strategy, null, -1, double.NaN,
                $"{strategy}'s backward pass produced non-finite gradients: the adjoint state became non-finite at t = {e.Time.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} while integrating back over the output interval from t = {e.BackwardInterval.Value.From.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} to {e.BackwardInterval.Value.To.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} (see the inner exception).", e);
        }
        CheckFinite(gradTheta, finiteBefore);
        BackwardStats = stats;
        if (timeGradients)
        {
            if (owner.RequiresGrad(t0)) owner.Gradient(t0)[0] += T.CreateTruncating(gradTimes[0]);
            if (owner.RequiresGrad(t1)) owner.Gradient(t1)[0] += T.CreateTruncating(gradTimes[1]);
        }
        if (owner.RequiresGrad(y0Index))
        {
            var g = owner.Gradient(y0Index);
            System.Numerics.Tensors.TensorPrimitives.Add(g, gradY0, g);
        }
    }

    /// <summary>
    /// The one behaviour of every strategy: a backward pass that produced a non-finite dL/dθ or dL/dy0 throws
    /// <see cref="NonFiniteGradientException"/> naming the strategy and the first such component, before anything is
    /// added to y0's gradient. Parameter gradients that were already non-finite before this pass (put there by
    /// another node) are not this strategy's and are left to the optimizer's guard. Two SIMD sums over θ; no allocation.
    /// </summary>
    private void CheckFinite(ReadOnlySpan<T> gradTheta, bool finiteBefore)
    {
        if (finiteBefore) NonFiniteGradientException.ThrowIfNonFinite(dynamics.Parameters, gradTheta, strategy, "produced a non-finite gradient in its backward pass");
        int i = NonFiniteGradientException.FirstNonFinite<T>(gradY0);
        if (i >= 0)
        {
            double value = double.CreateTruncating(gradY0[i]);
            throw new NonFiniteGradientException(strategy, null, i, value,
                $"{strategy} produced a non-finite gradient in its backward pass: dL/dy0 is {value.ToString(System.Globalization.CultureInfo.InvariantCulture)} at index {i}; the first non-finite gradient.");
        }
    }
}
