using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Core.Flows;

/// <summary>A continuous normalizing flow in FFJORD's convention: data at <see cref="CnfOptions.StartTime"/>, the base distribution at the end time.</summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>
/// <para>
/// Each block integrates the augmented state [z, Δ, regulariser integrals] with dz/dt = f(z, t),
/// dΔ/dt = −tr(∂f/∂z), Δ(t0) = 0, from the data time to the base time; blocks are chained (z and Δ carry over), and
/// log p(x) = log p_base(z(T)) − Δ(T) (Chen et al. 2018, Theorem 1; Grathwohl et al. 2019, FFJORD, Eq. 4).
/// </para>
/// <para>
/// Training records the solves on a tape through <see cref="OdeLayer"/> with any <see cref="ISensitivity"/>; the
/// divergence is a tape expression of forward tangents, so its gradient with respect to θ and z is exact.
/// Hutchinson probes are an input of each call: drawn from the seed passed to it (or passed explicitly), held fixed
/// for that pass's solves, forward and backward, and kept with those solves until their tape is reset. Passes may be
/// recorded on one tape or several and differentiated in any order, each with its own probes.
/// </para>
/// <para>
/// The augmented dynamics are cached by value (block, batch size, estimator kind and probe count, regularisers; not by
/// the estimator instance), at most eight of them: a warm training loop reuses one set per
/// block and allocates none. Dynamics holding the probes of a pass whose tape has not been reset are never handed to
/// another pass; with more such passes alive than the cache holds, the least recently used entry is dropped (its
/// solves keep it) and the next pass builds its own.
/// </para>
/// <para>Not thread-safe: one instance per thread.</para>
/// </remarks>
/// <example>
/// <code>
/// var net = Mlp.Create&lt;float&gt;(2, [64, 64, 64], 2, Activation.Tanh, TimeInput.ConcatSquash, seed: 0);
/// var cnf = new Cnf&lt;float&gt;(new MlpVelocityField&lt;float&gt;(net), new CnfOptions { TrainingDivergence = new HutchinsonDivergence() });
/// var random = new Random(0);
/// CnfTrainer.Train(cnf, n =&gt; Toy2D.Sample&lt;float&gt;(Toy2DSet.EightGaussians, n, random), new CnfTrainingOptions { Iterations = 1000 });
/// float[] logp = cnf.LogProb(x);                 // exact trace
/// float[] samples = cnf.Sample(1000, seed: 1);   // 1000 × 2, row-major
/// // or one step by hand, with any sensitivity:
/// var pass = cnf.Forward(tape, batch, noiseSeed: iteration, new Checkpointed());
/// tape.Backward(pass.Loss);                      // dL/dθ in cnf.Parameters.Gradients, NFE in pass.ForwardEvaluations
/// </code>
/// </example>
public sealed class Cnf<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IVelocityField<T>[] blocks;
    private readonly Parameter<T>[] logEndTimes;
    private readonly List<CachedDynamics> dynamics = [];
    private long dynamicsUses;
    private readonly Dictionary<(int Block, int Batch), VelocityDynamics<T>> transports = [];
    private readonly List<CnfPass<T>> passes = [];
    private readonly SaveAt fixedSpan;

    /// <summary>A one-block flow.</summary>
    /// <param name="field">The velocity field.</param>
    /// <param name="options">The settings (null: FFJORD's 2-D defaults).</param>
    /// <exception cref="ArgumentException">An option is invalid (see <see cref="Cnf{T}(IReadOnlyList{IVelocityField{T}}, CnfOptions?)"/>).</exception>
    public Cnf(IVelocityField<T> field, CnfOptions? options = null)
        : this([field ?? throw new ArgumentNullException(nameof(field))], options)
    {
    }

    /// <summary>A flow of stacked blocks, integrated one after another.</summary>
    /// <param name="blocks">The blocks' velocity fields; all of one dimension and sharing one <see cref="ParameterSet{T}"/>.</param>
    /// <param name="options">The settings (null: FFJORD's 2-D defaults).</param>
    /// <exception cref="ArgumentException">
    /// No blocks; fields of different dimensions or parameter sets; a base distribution of another dimension; a zero or
    /// non-finite time span; a learnable T that is not positive; or (with a learnable T) a parameter set already frozen.
    /// </exception>
    public Cnf(IReadOnlyList<IVelocityField<T>> blocks, CnfOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Count == 0) throw new ArgumentException("A CNF needs at least one block.", nameof(blocks));
        Options = options ?? new CnfOptions();
        this.blocks = [.. blocks];
        Dimension = this.blocks[0].Dimension;
        Parameters = this.blocks[0].Parameters;
        foreach (var b in this.blocks)
        {
            ArgumentNullException.ThrowIfNull(b, nameof(blocks));
            if (b.Dimension != Dimension) throw new ArgumentException($"All blocks must have one dimension; found {b.Dimension} and {Dimension}.", nameof(blocks));
            if (!ReferenceEquals(b.Parameters, Parameters)) throw new ArgumentException("All blocks must share one ParameterSet (build them into the same set), so one optimizer updates them all.", nameof(blocks));
        }
        Base = Options.Base ?? BaseDistribution.StandardNormal(Dimension);
        if (Base.Dimension != Dimension)
            throw new ArgumentException($"The base distribution has dimension {Base.Dimension} but the flow has {Dimension}.", nameof(options));
        ArgumentNullException.ThrowIfNull(Options.TrainingDivergence, nameof(options));
        EvaluationDivergence = Options.EvaluationDivergence ?? (Dimension <= CnfOptions.ExactEvaluationMaxDimension ? Divergence.Exact : new HutchinsonDivergence());
        ArgumentNullException.ThrowIfNull(Options.Solver, nameof(options));
        Options.Regularization.Validate();
        double span = Options.EndTime - Options.StartTime;
        if (!double.IsFinite(Options.StartTime) || !double.IsFinite(Options.EndTime) || span == 0)
            throw new ArgumentException($"The time span T = EndTime − StartTime = {Options.EndTime} − {Options.StartTime} must be finite and non-zero.", nameof(options));
        fixedSpan = SaveAt.End(Options.StartTime, Options.EndTime);
        logEndTimes = [];
        if (Options.LearnEndTime)
        {
            if (!(span > 0))
                throw new ArgumentException($"A learnable T must be positive (it is parametrised as exp(s)); got T = {span}.", nameof(options));
            if (Parameters.IsFrozen)
                throw new ArgumentException("A learnable T is added to the blocks' parameter set, which is already frozen: create the Cnf before the set is first used (by a tape, an optimizer or loading values).", nameof(blocks));
            logEndTimes = new Parameter<T>[this.blocks.Length];
            for (int i = 0; i < logEndTimes.Length; i++)
            {
                logEndTimes[i] = Parameters.Add(this.blocks.Length == 1 ? "cnf.log_end_time" : $"cnf.{i}.log_end_time", Shape.Scalar);
                Parameters.ValuesWhileBuilding(logEndTimes[i])[0] = T.CreateTruncating(Math.Log(span));
            }
        }
    }

    /// <summary>The most augmented dynamics a flow keeps for reuse (each with its private tapes and probe buffer).</summary>
    internal const int MaxCachedDynamics = 8;

    /// <summary>How many augmented dynamics are cached now (at most <see cref="MaxCachedDynamics"/>).</summary>
    internal int CachedDynamicsCount => dynamics.Count;

    /// <summary>The settings.</summary>
    public CnfOptions Options { get; }

    /// <summary>The dimension D of a point.</summary>
    public int Dimension { get; }

    /// <summary>The number of stacked blocks.</summary>
    public int BlockCount => blocks.Length;

    /// <summary>All trainable parameters (the blocks' and, when learned, each block's log T).</summary>
    public ParameterSet<T> Parameters { get; }

    /// <summary>The base distribution.</summary>
    public BaseDistribution Base { get; }

    /// <summary>The divergence <see cref="LogProb"/> uses (resolved from <see cref="CnfOptions.EvaluationDivergence"/>).</summary>
    public Divergence EvaluationDivergence { get; }

    /// <summary>The current integration length T of block <paramref name="block"/> (learned or fixed), signed.</summary>
    /// <param name="block">The block's index.</param>
    /// <returns>T.</returns>
    public double Duration(int block = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(block);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(block, blocks.Length);
        return logEndTimes.Length > 0 ? Math.Exp(double.CreateTruncating(logEndTimes[block].Value[0])) : Options.EndTime - Options.StartTime;
    }

    /// <summary>Records a pass over a batch with probes drawn from <paramref name="noiseSeed"/>.</summary>
    /// <param name="tape">The tape.</param>
    /// <param name="x">The batch, B × D row-major.</param>
    /// <param name="noiseSeed">The seed of the Hutchinson probes (block i uses a seed derived from it; unused by the exact trace).</param>
    /// <param name="sensitivity">How gradients flow back through each solve (default <see cref="Backprop"/>).</param>
    /// <param name="divergence">The estimator (default <see cref="CnfOptions.TrainingDivergence"/>).</param>
    /// <returns>The pass: log-densities, loss and statistics, all on the tape.</returns>
    /// <exception cref="ArgumentException">x is empty, not a whole number of D-dimensional points, or not finite.</exception>
    /// <exception cref="OdeSolverException">A solve failed.</exception>
    public CnfPass<T> Forward(Tape<T> tape, ReadOnlySpan<T> x, int noiseSeed, ISensitivity? sensitivity = null, Divergence? divergence = null) =>
        Forward(tape, x, noiseSeed, default, sensitivity, divergence ?? Options.TrainingDivergence);

    /// <summary>Records a pass over a batch with explicit Hutchinson probes (the same probes for every block).</summary>
    /// <param name="tape">The tape.</param>
    /// <param name="x">The batch, B × D row-major.</param>
    /// <param name="probes">The probes, (probes·B) × D row-major (ignored by the exact trace).</param>
    /// <param name="sensitivity">How gradients flow back (default <see cref="Backprop"/>).</param>
    /// <param name="divergence">The estimator (default <see cref="CnfOptions.TrainingDivergence"/>).</param>
    /// <returns>The pass.</returns>
    /// <exception cref="ArgumentException">x or the probes are malformed.</exception>
    /// <exception cref="OdeSolverException">A solve failed.</exception>
    public CnfPass<T> Forward(Tape<T> tape, ReadOnlySpan<T> x, ReadOnlySpan<T> probes, ISensitivity? sensitivity = null, Divergence? divergence = null) =>
        Forward(tape, x, null, probes, sensitivity, divergence ?? Options.TrainingDivergence);

    private CnfPass<T> Forward(Tape<T> tape, ReadOnlySpan<T> x, int? noiseSeed, ReadOnlySpan<T> probes, ISensitivity? sensitivity, Divergence divergence)
    {
        ArgumentNullException.ThrowIfNull(tape);
        int batch = CheckPoints(x, nameof(x));
        var regs = Options.Regularization;
        var pass = TakePass(tape);
        var solves = pass.SolveNodes;
        Var<T> state = default;
        for (int i = 0; i < blocks.Length; i++)
        {
            var (f, options) = Dynamics(i, batch, divergence, regs, noiseSeed is { } seed ? seed + 7919 * i : null, probes, tape);
            if (i == 0)
            {
                var y0 = f.InitialState;
                y0.Clear();
                x.CopyTo(y0);
                state = tape.Constant(y0, f.StateShape);
            }
            OdeSolveNode<T> node;
            if (logEndTimes.Length > 0)
            {
                var t1 = Ops.AddScalar(Ops.Exp(tape.Parameter(logEndTimes[i])), T.CreateTruncating(Options.StartTime));
                node = OdeLayer.Solve(tape, f, state, tape.Scalar(T.CreateTruncating(Options.StartTime)), t1, options, sensitivity);
            }
            else
            {
                node = OdeLayer.Solve(tape, f, state, fixedSpan, options, sensitivity);
            }
            solves[i] = node;
            state = node.Final;
        }

        int d = Dimension;
        var z = FlatOps.View(state, 0, new Shape(batch, d));
        var delta = FlatOps.View(state, batch * d, new Shape(batch, 1));
        var logProb = Ops.Subtract(Base.LogDensity(z), delta);
        var nll = Ops.Negate(Ops.Mean(logProb));
        var loss = nll;
        Var<T>? kinetic = null, jacobian = null;
        int next = batch * d + batch;
        if (regs.HasKinetic)
        {
            var k = FlatOps.View(state, next, new Shape(batch, 1));
            kinetic = k;
            loss = Ops.Add(loss, Ops.Scale(Ops.Mean(k), T.CreateTruncating(regs.KineticEnergy)));
            next += batch;
        }
        if (regs.HasFrobenius)
        {
            var j = FlatOps.View(state, next, new Shape(batch, 1));
            jacobian = j;
            loss = Ops.Add(loss, Ops.Scale(Ops.Mean(j), T.CreateTruncating(regs.JacobianFrobenius)));
        }
        return pass.Record(logProb, z, delta, kinetic, jacobian, nll, loss);
    }

    /// <summary>
    /// A pass object for a pass recorded on <paramref name="tape"/>: one no caller can still use (its tape was reset
    /// since), or a new one, kept for reuse while fewer than <see cref="MaxCachedDynamics"/> are kept.
    /// </summary>
    private CnfPass<T> TakePass(Tape<T> tape)
    {
        lock (passes)
        {
            CnfPass<T>? pass = null;
            foreach (var candidate in passes)
            {
                if (candidate.IsFree)
                {
                    pass = candidate;
                    break;
                }
            }
            if (pass is null)
            {
                pass = new CnfPass<T>(blocks.Length);
                if (passes.Count < MaxCachedDynamics) passes.Add(pass);
            }
            pass.Claim(tape);
            return pass;
        }
    }

    /// <summary>log p(x) for each point, with <see cref="EvaluationDivergence"/> (exact in low dimension); nothing is recorded for gradients.</summary>
    /// <param name="x">The points, B × D row-major.</param>
    /// <param name="noiseSeed">The probes' seed when the evaluation divergence is Hutchinson's.</param>
    /// <returns>B log-densities.</returns>
    /// <exception cref="ArgumentException">x is empty, not a whole number of D-dimensional points, or not finite.</exception>
    /// <exception cref="OdeSolverException">A solve failed.</exception>
    public T[] LogProb(ReadOnlySpan<T> x, int noiseSeed = 0)
    {
        int batch = CheckPoints(x, nameof(x));
        int d = Dimension;
        T[] state = [];
        for (int i = 0; i < blocks.Length; i++)
        {
            var (f, options) = Dynamics(i, batch, EvaluationDivergence, CnfRegularization.None, noiseSeed + 7919 * i, default, null);
            if (i == 0)
            {
                state = new T[f.Dimension];
                x.CopyTo(state);
            }
            var sol = Ode.Solve<T>(f, state, SaveAt.End(Options.StartTime, Options.StartTime + Duration(i)), options);
            sol.States[0].CopyTo(state);
        }
        var result = new T[batch];
        for (int b = 0; b < batch; b++)
            result[b] = T.CreateTruncating(Base.LogDensity<T>(state.AsSpan(b * d, d))) - state[batch * d + b];
        return result;
    }

    /// <summary>Draws <paramref name="n"/> points: base samples transported from the base time back to the data time.</summary>
    /// <param name="n">How many points.</param>
    /// <param name="seed">The seed of the base samples.</param>
    /// <returns>n × D points, row-major.</returns>
    /// <exception cref="ArgumentOutOfRangeException">n is not positive.</exception>
    /// <exception cref="OdeSolverException">A solve failed.</exception>
    public T[] Sample(int n, int seed) => Inverse(Base.Sample<T>(n, seed));

    /// <summary>Transports data points to the base time: x ↦ z(T) (no densities).</summary>
    /// <param name="x">The points, B × D row-major.</param>
    /// <returns>z(T), B × D.</returns>
    /// <exception cref="ArgumentException">x is malformed.</exception>
    public T[] Transform(ReadOnlySpan<T> x) => Transport(x, forward: true);

    /// <summary>Transports base-time points back to the data time: z ↦ x.</summary>
    /// <param name="z">The points, B × D row-major.</param>
    /// <returns>x, B × D.</returns>
    /// <exception cref="ArgumentException">z is malformed.</exception>
    public T[] Inverse(ReadOnlySpan<T> z) => Transport(z, forward: false);

    /// <summary>log p on a regular grid (D = 2), for plots and for checking that the density integrates to 1.</summary>
    /// <param name="xMin">The first x.</param>
    /// <param name="xMax">The last x.</param>
    /// <param name="yMin">The first y.</param>
    /// <param name="yMax">The last y.</param>
    /// <param name="points">Grid points per axis (at least 2).</param>
    /// <param name="batchSize">Points per solve.</param>
    /// <returns>log p at (x_i, y_j), row j (y) by column i (x), points × points row-major.</returns>
    /// <exception cref="InvalidOperationException">The flow is not two-dimensional.</exception>
    /// <exception cref="ArgumentException">The ranges or counts are invalid.</exception>
    public T[] LogProbGrid(double xMin, double xMax, double yMin, double yMax, int points, int batchSize = 1024)
    {
        if (Dimension != 2) throw new InvalidOperationException($"A density grid needs a two-dimensional flow, not {Dimension}-dimensional.");
        ArgumentOutOfRangeException.ThrowIfLessThan(points, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (!(xMax > xMin) || !(yMax > yMin)) throw new ArgumentException($"The grid needs xMin < xMax and yMin < yMax; got [{xMin}, {xMax}] × [{yMin}, {yMax}].", nameof(xMax));
        int total = points * points;
        var result = new T[total];
        var chunk = new T[2 * Math.Min(batchSize, total)];
        for (int start = 0; start < total; start += batchSize)
        {
            int count = Math.Min(batchSize, total - start);
            for (int k = 0; k < count; k++)
            {
                int j = (start + k) / points, i = (start + k) % points;
                chunk[2 * k] = T.CreateTruncating(xMin + (xMax - xMin) * i / (points - 1));
                chunk[2 * k + 1] = T.CreateTruncating(yMin + (yMax - yMin) * j / (points - 1));
            }
            LogProb(chunk.AsSpan(0, 2 * count)).CopyTo(result, start);
        }
        return result;
    }

    private T[] Transport(ReadOnlySpan<T> points, bool forward)
    {
        int batch = CheckPoints(points, nameof(points));
        var state = points.ToArray();
        var options = Options.Solver.Norm.Kind == ErrorNormKind.BlockRms ? Options.Solver with { Norm = ErrorNorm.Rms } : Options.Solver;
        for (int k = 0; k < blocks.Length; k++)
        {
            int i = forward ? k : blocks.Length - 1 - k;
            if (!transports.TryGetValue((i, batch), out var f))
            {
                f = new VelocityDynamics<T>(blocks[i], batch);
                transports.Add((i, batch), f);
            }
            double t0 = Options.StartTime, t1 = Options.StartTime + Duration(i);
            var sol = Ode.Solve<T>(f, state, forward ? SaveAt.End(t0, t1) : SaveAt.End(t1, t0), options);
            sol.States[0].CopyTo(state);
        }
        return state;
    }

    /// <summary>
    /// The augmented dynamics of one solve, with this call's probes written into them: a cached entry equal by value
    /// and not holding the probes of a pass still alive, or a new one (cached, dropping the least recently used entry
    /// when the cache is full).
    /// </summary>
    /// <param name="block">The block.</param>
    /// <param name="batch">B.</param>
    /// <param name="divergence">The estimator.</param>
    /// <param name="regs">The regularisers carried.</param>
    /// <param name="seed">The seed the probes are drawn from, or null to copy <paramref name="probes"/>.</param>
    /// <param name="probes">Explicit probes (when <paramref name="seed"/> is null).</param>
    /// <param name="tape">
    /// The tape the solve is recorded on: the entry keeps the probes for that solve's backward and is not reused until
    /// the tape is reset. Null for a solve with no backward (evaluation), after which the entry is free again.
    /// </param>
    private (CnfDynamics<T> Dynamics, SolveOptions Options) Dynamics(int block, int batch, Divergence divergence, CnfRegularization regs, int? seed, ReadOnlySpan<T> probes, Tape<T>? tape)
    {
        int noiseLength = divergence.NoiseLength(batch, Dimension);
        bool holdsNoise = divergence is HutchinsonDivergence;
        if (holdsNoise && seed is null)
        {
            if (probes.Length != noiseLength)
                throw new ArgumentException($"{divergence} for {batch} points in {Dimension} dimensions needs {noiseLength} probe values, not {probes.Length}.", nameof(probes));
            for (int i = 0; i < probes.Length; i++)
            {
                if (!T.IsFinite(probes[i])) throw new ArgumentException($"The probes must be finite; value {i} is {probes[i]}.", nameof(probes));
            }
        }

        // The exact trace's tangents are the same for every pass, so its entries are shared; a Hutchinson entry is
        // taken only when no pass alive still needs its probes.
        var key = new DynamicsKey(block, batch, divergence is ExactDivergence, divergence.Tangents(Dimension), regs);
        CachedDynamics? entry = null;
        int leastRecent = -1;
        for (int i = 0; i < dynamics.Count; i++)
        {
            var candidate = dynamics[i];
            if (candidate.Key == key && (!holdsNoise || candidate.IsFree))
            {
                entry = candidate;
                break;
            }
            if (leastRecent < 0 || candidate.LastUse < dynamics[leastRecent].LastUse) leastRecent = i;
        }
        if (entry is null)
        {
            var f = new CnfDynamics<T>(blocks[block], batch, divergence, regs, new T[noiseLength]);
            var options = Options.Solver.Norm.Kind == ErrorNormKind.Rms ? Options.Solver with { Norm = ErrorNorm.BlockRms([.. f.Blocks]) } : Options.Solver;
            entry = new CachedDynamics(key, f, options);
            // Dropping an entry only forgets it here: solves recorded with it keep their reference and their probes.
            if (dynamics.Count < MaxCachedDynamics) dynamics.Add(entry);
            else dynamics[leastRecent] = entry;
        }
        entry.LastUse = ++dynamicsUses;
        if (divergence is HutchinsonDivergence h)
        {
            var buffer = entry.Dynamics.Probes;
            if (seed is { } s) HutchinsonDivergence.Draw(h.Noise, s, buffer);
            else probes.CopyTo(buffer);
            if (tape is not null) entry.Claim(tape);
        }
        return (entry.Dynamics, entry.Options);
    }

    /// <summary>What makes two sets of augmented dynamics interchangeable (the estimator's kind and probe count, not its identity).</summary>
    private readonly record struct DynamicsKey(int Block, int Batch, bool Exact, int Tangents, CnfRegularization Regularization);

    /// <summary>One cached set of augmented dynamics and the pass (tape and epoch) whose probes it holds, if any.</summary>
    private sealed class CachedDynamics(DynamicsKey key, CnfDynamics<T> dynamics, SolveOptions options)
    {
        private readonly TapeClaim<T> claim = new();

        public DynamicsKey Key { get; } = key;

        public CnfDynamics<T> Dynamics { get; } = dynamics;

        public SolveOptions Options { get; } = options;

        public long LastUse { get; set; }

        /// <summary>Whether no pass alive needs the probes: none was recorded with them, or its tape was reset (or collected) since.</summary>
        public bool IsFree => claim.IsFree;

        /// <summary>Reserves the entry for the pass being recorded on <paramref name="tape"/> until the tape is reset.</summary>
        public void Claim(Tape<T> tape) => claim.Claim(tape);
    }

    private int CheckPoints(ReadOnlySpan<T> x, string paramName)
    {
        if (x.IsEmpty) throw new ArgumentException("No points were given.", paramName);
        if (x.Length % Dimension != 0)
            throw new ArgumentException($"The flow is {Dimension}-dimensional, but {x.Length} values are not a whole number of {Dimension}-dimensional points (pass B × {Dimension} row-major).", paramName);
        for (int i = 0; i < x.Length; i++)
        {
            if (!T.IsFinite(x[i]))
                throw new ArgumentException($"Point {i / Dimension} has the non-finite coordinate {x[i]} at index {i % Dimension}.", paramName);
        }
        return x.Length / Dimension;
    }
}
