using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.Core.Dynamics;

/// <summary>
/// Differentiable dynamics defined once, by how they record themselves on a tape: <see cref="Evaluate"/> and
/// <see cref="Vjp"/> replay <see cref="Record"/> on a private tape that is reset on every call, so after the first
/// call neither allocates.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>
/// Dynamics that declare <see cref="IndependentRows"/> (or, inside the library, row groups) and are large enough are
/// replayed in row blocks on one private tape per block, the blocks on the cores of the shared worker pool (see
/// <see cref="IDifferentiableDynamics{T}.IndependentRows"/>).
/// One instance serves one caller at a time; the blocks of one call run <see cref="Record"/> concurrently, so an
/// override of <see cref="IndependentRows"/> promises that <see cref="Record"/> keeps no state of its own.
/// </remarks>
public abstract class TapeDynamics<T> : IDifferentiableDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private RowParallelTapes<T>? blocks;
    // Block-major copies of a call's state, cotangent, f and ∂f/∂y when row groups are split (see Groups).
    private T[] orderedState = [], orderedCotangent = [], orderedValues = [], orderedGradient = [];

    /// <summary>Sets up the private tape for states of <paramref name="stateShape"/>.</summary>
    /// <param name="parameters">The parameters θ.</param>
    /// <param name="stateShape">The state's layout, e.g. B × D.</param>
    protected TapeDynamics(ParameterSet<T> parameters, Shape stateShape)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters;
        StateShape = stateShape;
    }

    /// <summary>The state's layout.</summary>
    public Shape StateShape { get; }

    /// <inheritdoc/>
    public int Dimension => StateShape.Length;

    /// <inheritdoc/>
    public ParameterSet<T> Parameters { get; }

    /// <inheritdoc/>
    public virtual int IndependentRows => 1;

    /// <inheritdoc/>
    public virtual bool IsAutonomous => false;

    /// <inheritdoc/>
    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        var split = Blocks;
        if (!split.BlockMajor)
        {
            split.Evaluate(t, y, dydt);
            return;
        }
        split.ToBlockMajor(y, orderedState);
        split.Evaluate(t, orderedState, orderedValues);
        split.FromBlockMajor(orderedValues, dydt);
    }

    /// <inheritdoc/>
    public void Vjp(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> cotangent, Span<T> gradY, Span<T> gradTheta) =>
        EvaluateAndVjp(t, y, cotangent, default, gradY, gradTheta);

    /// <inheritdoc/>
    /// <remarks>One forward pass: f's value is read off the tape the VJP is taken on (<paramref name="dydt"/> may be empty to skip it).</remarks>
    public void EvaluateAndVjp(double t, ReadOnlySpan<T> y, ReadOnlySpan<T> cotangent, Span<T> dydt, Span<T> gradY, Span<T> gradTheta)
    {
        var split = Blocks;
        if (!split.BlockMajor)
        {
            split.EvaluateAndVjp(t, y, cotangent, dydt, gradY, gradTheta);
            return;
        }
        split.ToBlockMajor(y, orderedState);
        split.ToBlockMajor(cotangent, orderedCotangent);
        split.EvaluateAndVjp(t, orderedState, orderedCotangent, dydt.IsEmpty ? default : orderedValues, orderedGradient, gradTheta);
        if (!dydt.IsEmpty) split.FromBlockMajor(orderedValues, dydt);
        split.FromBlockMajor(orderedGradient, gradY);
    }

    /// <inheritdoc/>
    public abstract Var<T> Record(Tape<T> tape, double t, Var<T> y);

    /// <summary>
    /// For dynamics whose rows are independent but whose state is column groups over the rows (a CNF's [z | Δ | …]),
    /// that layout: <see cref="Evaluate"/> and <see cref="EvaluateAndVjp"/> (and the recorder of Backprop and
    /// Checkpointed) then replay <see cref="RecordRows"/> on row blocks on the worker pool, the state reordered
    /// block-major around each call. <see cref="IndependentRows"/> stays 1, since the state is not rows one after another.
    /// </summary>
    internal virtual RowGroups? Groups => null;

    /// <summary>Records f for rows [firstRow, firstRow + rowCount) of the state, given as a state of the same layout over those rows (see <see cref="Groups"/>).</summary>
    internal virtual Var<T> RecordRows(Tape<T> tape, double t, Var<T> y, int firstRow, int rowCount) => Record(tape, t, y);

    // Made on first use: subclasses add their layers to the parameter set after this base constructor has run.
    private RowParallelTapes<T> Blocks => blocks ?? CreateBlocks();

    private RowParallelTapes<T> CreateBlocks()
    {
        if (Groups is not { } groups) return blocks = new RowParallelTapes<T>(this, StateShape, RowSplit.Parts<T>(this), 1 << 16);
        blocks = new RowParallelTapes<T>(this, groups, RowSplit.Parts(groups.Rows, Parameters.Length), 1 << 16);
        if (blocks.BlockMajor)
        {
            orderedState = new T[Dimension];
            orderedCotangent = new T[Dimension];
            orderedValues = new T[Dimension];
            orderedGradient = new T[Dimension];
        }
        return blocks;
    }
}
