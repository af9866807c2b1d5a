using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Core.Flows;

/// <summary>The augmented CNF dynamics for a batch: d/dt [z, Δ, ∫‖f‖², ∫‖J‖²_F] = [f, −tr(∂f/∂z), ‖f‖², ‖J‖²_F].</summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>
/// The state is one column of contiguous blocks: z (B·D, row-major B × D), Δ (B), then the kinetic (B) and Jacobian
/// (B) integrals when their weights are non-zero. <see cref="Blocks"/> names them, so the error norm can be the
/// largest block RMS, as torchdiffeq's norm of the tuple (z, Δ, …). The divergence's tangents (the unit vectors, or the
/// Hutchinson probes) are given at construction and belong to one solve, forward and backward: a <see cref="Cnf{T}"/>
/// that reuses these dynamics for a later pass writes that pass's probes only once no solve recorded with the
/// earlier ones can still be differentiated (its tape has been reset).
/// Evaluate and Vjp come from <see cref="TapeDynamics{T}"/>: a private tape reset per call (not thread-safe).
/// </remarks>
public sealed class CnfDynamics<T> : TapeDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] tangents;
    private T[]? initialState;
    private readonly Shape tangentShape;
    private readonly Shape pointShape;
    private readonly RowGroups groups;

    /// <summary>Creates the dynamics for <paramref name="batch"/> points.</summary>
    /// <param name="field">The velocity field.</param>
    /// <param name="batch">B, the number of points.</param>
    /// <param name="divergence">How the divergence is computed.</param>
    /// <param name="regularization">Which regulariser integrals are carried (non-zero weights).</param>
    /// <param name="probes">For Hutchinson: the probes, (probes·B) × D, copied; ignored (may be empty) for the exact trace.</param>
    /// <exception cref="ArgumentException">The probes have the wrong length or are not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">B is not positive.</exception>
    public CnfDynamics(IVelocityField<T> field, int batch, Divergence divergence, CnfRegularization regularization, ReadOnlySpan<T> probes)
        : base(CheckField(field).Parameters, new Shape(StateLength(field, batch, regularization), 1))
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(divergence);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        regularization.Validate();
        Field = field;
        Batch = batch;
        Divergence = divergence;
        Regularization = regularization;
        int d = field.Dimension;
        int k = divergence.Tangents(d);
        tangents = new T[k * batch * d];
        if (divergence is ExactDivergence)
        {
            ExactDivergence.UnitTangents<T>(tangents, batch, d);
        }
        else
        {
            if (probes.Length != tangents.Length)
                throw new ArgumentException($"{divergence} for {batch} points in {d} dimensions needs {tangents.Length} probe values, not {probes.Length}.", nameof(probes));
            foreach (T v in probes)
            {
                if (!T.IsFinite(v)) throw new ArgumentException("The probes must be finite.", nameof(probes));
            }
            probes.CopyTo(tangents);
        }
        pointShape = new Shape(batch, d);
        tangentShape = new Shape(k * batch, d);
        var blocks = new List<StateBlock> { new("z", 0, batch * d), new("delta", batch * d, batch) };
        int next = batch * d + batch;
        if (regularization.HasKinetic) { blocks.Add(new("kinetic", next, batch)); next += batch; }
        if (regularization.HasFrobenius) blocks.Add(new("jacobian", next, batch));
        Blocks = blocks;
        groups = new RowGroups(batch, [d, .. Enumerable.Repeat(1, blocks.Count - 1)]);
    }

    /// <summary>The velocity field.</summary>
    public IVelocityField<T> Field { get; }

    /// <summary>B.</summary>
    public int Batch { get; }

    /// <summary>The divergence estimator.</summary>
    public Divergence Divergence { get; }

    /// <summary>The regularisers carried as states.</summary>
    public CnfRegularization Regularization { get; }

    /// <summary>The state's blocks: z, delta, then kinetic and jacobian when carried.</summary>
    public IReadOnlyList<StateBlock> Blocks { get; }

    /// <summary>A reusable buffer of <see cref="TapeDynamics{T}.Dimension"/> elements for an initial state (so a training step allocates none).</summary>
    internal Span<T> InitialState => initialState ??= new T[Dimension];

    /// <summary>The tangent buffer (the Hutchinson probes), written by <see cref="Cnf{T}"/> before a solve, never while an earlier solve's backward still needs it.</summary>
    internal Span<T> Probes => tangents;

    private static IVelocityField<T> CheckField(IVelocityField<T> field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field;
    }

    /// <summary>[z (B·D) | Δ (B) | one integral per active regulariser (B each)].</summary>
    private static int StateLength(IVelocityField<T> field, int batch, CnfRegularization regularization) =>
        batch * field.Dimension + batch * (1 + regularization.States);

    /// <inheritdoc/>
    public override Var<T> Record(Tape<T> tape, double t, Var<T> y)
    {
        ArgumentNullException.ThrowIfNull(tape);
        return RecordRows(tape, t, y, 0, Batch);
    }

    /// <summary>Every point's row is independent of the others: z's row, Δ's and the regularisers' elements.</summary>
    internal override RowGroups Groups => groups;

    /// <inheritdoc/>
    internal override Var<T> RecordRows(Tape<T> tape, double t, Var<T> y, int firstRow, int rowCount)
    {
        int d = Field.Dimension;
        var z = FlatOps.View(y, 0, rowCount == Batch ? pointShape : new Shape(rowCount, d));
        var v = rowCount == Batch ? tape.Constant(tangents, tangentShape) : BlockTangents(tape, firstRow, rowCount);
        var fj = Field.Forward(tape, z, v, T.CreateTruncating(t));
        var (divergence, frobenius) = Divergence.Record(fj, v, rowCount, d, Regularization.HasFrobenius);
        var rest = Ops.Negate(divergence);
        if (Regularization.HasKinetic)
        {
            var kinetic = Ops.RowDot(fj.Value, fj.Value);
            rest = FlatOps.Pack(rest, kinetic, Regularization.HasFrobenius ? frobenius : (Var<T>?)null);
        }
        else if (Regularization.HasFrobenius)
        {
            rest = FlatOps.Pack(rest, frobenius, null);
        }
        return FlatOps.Pack(fj.Value, rest, null);
    }

    /// <summary>The tangents of rows [firstRow, firstRow + rowCount): the same rows of each of the k stacked blocks.</summary>
    private Var<T> BlockTangents(Tape<T> tape, int firstRow, int rowCount)
    {
        int d = Field.Dimension, k = tangents.Length / (Batch * d);
        var v = tape.Full(new Shape(k * rowCount, d), T.Zero);
        var destination = tape.Value(tape.Check(v, "tangents"));
        for (int j = 0; j < k; j++)
            tangents.AsSpan((j * Batch + firstRow) * d, rowCount * d).CopyTo(destination.Slice(j * rowCount * d, rowCount * d));
        return v;
    }
}

/// <summary>The velocity field alone, dz/dt = f(z, t), for transporting points without densities (sampling, inversion).</summary>
internal sealed class VelocityDynamics<T> : IDynamics<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IVelocityField<T> field;
    private readonly Shape shape;

    private readonly Tape<T> tape = new(1 << 16);

    public VelocityDynamics(IVelocityField<T> field, int batch)
    {
        this.field = field;
        shape = new Shape(batch, field.Dimension);
    }

    public int Dimension => shape.Length;

    public void Evaluate(double t, ReadOnlySpan<T> y, Span<T> dydt)
    {
        tape.Reset();
        field.Forward(tape, tape.Constant(y, shape), T.CreateTruncating(t)).Value.CopyTo(dydt);
    }
}
