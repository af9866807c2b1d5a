using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// The linear algebra every Rosenbrock and ESDIRK step starts with: f(t, y0) (the loop's or evaluated), ∂f/∂y and ∂f/∂t
/// by forward differences (or the dynamics' own, <see cref="IJacobianDynamics{T}"/> and <see cref="ITimeDerivativeDynamics{T}"/>), and I − hγJ factored once for all the step's stages, with the counters the loop reports.
/// For dynamics of B independent rows the Jacobian is block diagonal and so is the matrix: B factorisations of D × D
/// (O(B·D³) work and O(B·D²) memory, linear in the batch), never one of (B·D)².
/// </summary>
internal sealed class LinearlyImplicitSystem<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The longest quadrature tail still differenced and factored with the core.</summary>
    public const int ShortTail = 16;

    /// <summary>The largest dense block factored: 4096² doubles are 128 MiB, and one factorisation 46 GFLOP.</summary>
    public const int MaxDenseBlock = 4096;

    private readonly int n;
    // Built for the block structure of the dynamics at the first step (rebuilt only if another structure comes).
    private FiniteDifferenceJacobian<T>? derivatives;
    private DenseLu[] lus = [];
    // The point the derivatives belong to: a step retried there after a rejection reuses them (only h changed).
    private readonly T[] preparedState;
    private double preparedTime;
    private bool prepared;
    // A quadrature tail after the core (see IQuadratureTail): its coupling to the core, at the prepared point.
    private IQuadratureTail<T>? tail;
    private int core;
    private double preparedHg;
    private T[] direction = [], product = [];

    public LinearlyImplicitSystem(int n)
    {
        this.n = n;
        F0 = new T[n];
        TimeDerivative = new double[n];
        preparedState = new T[n];
    }

    /// <summary>f(t, y0) of the last preparation.</summary>
    public T[] F0 { get; }

    /// <summary>∂f/∂t of the last preparation.</summary>
    public double[] TimeDerivative { get; }

    /// <summary>The diagonal blocks of the last factorisation: 1, or the dynamics' independent rows.</summary>
    public int Blocks => lus.Length;

    public long JacobianEvaluations { get; set; }

    public long Factorizations { get; set; }

    /// <summary>Forgets the point of the last derivatives: a new solve (other dynamics or parameters, perhaps) starts.</summary>
    public void Invalidate() => prepared = false;

    /// <summary>
    /// Prepares a step of size h from (t, y0) and returns the evaluations of f it made; <paramref name="factored"/> is
    /// false when I − hγJ is singular or not finite (the step is then rejected). A step retried from the same point
    /// after a rejection keeps f0, ∂f/∂y and ∂f/∂t and only refactors for the new h, as Hairer and Wanner's RODAS does.
    /// </summary>
    public int Prepare(IDynamics<T> f, double t, double h, double gamma, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0, out bool factored) =>
        Prepare(f, t, h, gamma, y0, f0, timeDerivative: true, out factored);

    /// <summary>As <see cref="Prepare(IDynamics{T}, double, double, double, ReadOnlySpan{T}, ReadOnlySpan{T}, out bool)"/>, with ∂f/∂t only when asked for (an ESDIRK method needs none: one evaluation fewer per step).</summary>
    public int Prepare(IDynamics<T> f, double t, double h, double gamma, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0, bool timeDerivative, out bool factored)
    {
        int evaluations = 0;
        // A short tail is cheaper differenced with the core (one evaluation per component and Jacobian) than coupled by
        // one product per linear solve (3 to 15 a step); Robertson's adjoint (3 parameters): 6429 VJPs against 9076.
        var quadrature = f is IQuadratureTail<T> { QuadratureLength: > ShortTail } withTail ? withTail : null;
        int coreLength = quadrature is null ? n : n - quadrature.QuadratureLength;
        int rowCount = quadrature?.CoreIndependentRows ?? (f is IDifferentiableDynamics<T> differentiable ? differentiable.IndependentRows : 1);
        int blocks = JacobianBlocks.Count(coreLength, rowCount);
        if (derivatives is null || derivatives.Blocks != blocks || derivatives.Core != coreLength)
        {
            int width = coreLength / blocks;
            if (width > MaxDenseBlock)
            {
                string remedy = f is IQuadratureTail<T>
                    ? "the recomputing adjoint's [z, a] has no row structure; use Adjoint { Interpolating = true }, whose backward Jacobian is block-diagonal by rows, or Backprop"
                    : "declare IndependentRows if the rows of f are independent, or use an explicit method";
                throw new ArgumentException($"A stiff step would factor a dense {width} × {width} Jacobian ({(double)width * width * 8 / (1 << 30):G3} GiB); the largest allowed is {MaxDenseBlock} × {MaxDenseBlock}: {remedy}.", nameof(f));
            }
            derivatives = new FiniteDifferenceJacobian<T>(n, blocks, coreLength);
            lus = new DenseLu[blocks];
            for (int r = 0; r < blocks; r++) lus[r] = new DenseLu(coreLength / blocks);
            prepared = false;
        }
        tail = quadrature;
        core = coreLength;
        if (quadrature is not null && product.Length != n - coreLength)
        {
            direction = new T[n];
            product = new T[n - coreLength];
        }
        if (!(prepared && t == preparedTime && y0.SequenceEqual(preparedState)))
        {
            if (!f0.IsEmpty) f0.CopyTo(F0);
            else
            {
                f.Evaluate(t, y0, F0);
                evaluations++;
            }
            Span<double> dt = timeDerivative ? TimeDerivative : default;
            if (f.IsAutonomous && !dt.IsEmpty)
            {
                // f ignores t: ∂f/∂t is zero, with no difference in t below.
                dt.Clear();
                dt = default;
            }
            else if (f is ITimeDerivativeDynamics<T> exactInTime && !dt.IsEmpty)
            {
                // The dynamics' own ∂f/∂t: no difference in t below.
                exactInTime.TimeDerivative(t, y0, dt);
                dt = default;
            }
            if (f is IJacobianDynamics<T> given && quadrature is null)
            {
                // The dynamics' own Jacobian (exact, no evaluations of f); ∂f/∂t still by a difference.
                GivenJacobian(given, t, y0, blocks, coreLength / blocks);
                evaluations += derivatives.TimeDerivative(f, t, h, y0, F0, dt);
            }
            else
            {
                evaluations += derivatives.Evaluate(f, t, h, y0, F0, dt);
            }
            JacobianEvaluations++;
            y0.CopyTo(preparedState);
            preparedTime = t;
            prepared = true;
        }

        double hg = h * gamma;
        preparedHg = hg;
        double[] jacobian = derivatives.Jacobian;
        int d = coreLength / blocks;
        factored = true;
        for (int r = 0; r < blocks; r++)
        {
            Span<double> w = lus[r].Matrix;
            ReadOnlySpan<double> block = jacobian.AsSpan(r * d * d, d * d);
            for (int i = 0; i < d * d; i++) w[i] = -hg * block[i];
            for (int i = 0; i < d; i++) w[i * d + i] += 1;
            factored &= lus[r].Factor();
        }
        Factorizations++;
        return evaluations;
    }

    /// <summary>The dynamics' own Jacobian into the block layout; writing outside it is the caller's layout error, named.</summary>
    private void GivenJacobian(IJacobianDynamics<T> given, double t, ReadOnlySpan<T> y0, int blocks, int d)
    {
        try
        {
            given.Jacobian(t, y0, derivatives!.Jacobian);
        }
        catch (IndexOutOfRangeException e)
        {
            string layout = blocks > 1 ? $"{blocks} diagonal blocks of {d} × {d} (the dynamics declare {blocks} independent rows)" : $"one dense {d} × {d} matrix";
            throw new ArgumentException($"{given.GetType().Name}.Jacobian wrote outside its {blocks * d * d} entries: the layout is {layout}, row-major.", "f", e);
        }
    }

    /// <summary>‖J‖∞ of the last Jacobian (the largest absolute row sum over the blocks): an upper bound of its spectral radius, 0 before any.</summary>
    public double JacobianNormBound()
    {
        if (derivatives is null || !prepared) return 0;
        double[] jacobian = derivatives.Jacobian;
        int d = core / lus.Length;
        double worst = 0;
        for (int row = 0; row < core; row++)
        {
            int block = row / d, i = row % d, offset = block * d * d + i * d;
            double sum = 0;
            for (int j = 0; j < d; j++) sum += Math.Abs(jacobian[offset + j]);
            worst = Math.Max(worst, sum);
        }
        return worst;
    }

    /// <summary>The diagonal blocks of the last Jacobian, block r at r·D², each row-major D × D.</summary>
    public ReadOnlySpan<double> Jacobian => derivatives is null ? default : derivatives.Jacobian;

    /// <summary>Overwrites <paramref name="rhs"/> with (I − hγJ)⁻ᵀ·rhs, block by block: the transposed solve of a step's gradient.</summary>
    public void SolveTransposed(Span<double> rhs)
    {
        if (tail is not null) throw new InvalidOperationException("A system with a quadrature tail has no transposed solve.");
        int d = n / lus.Length;
        for (int r = 0; r < lus.Length; r++) lus[r].SolveTransposed(rhs.Slice(r * d, d));
    }

    /// <summary>
    /// Overwrites <paramref name="rhs"/> with (I − hγJ)⁻¹·rhs, block by block; with a quadrature tail the core is solved
    /// and the tail follows, x_q = r_q + hγ·G·x_c. Returns the evaluations of f this made (the tail's one product, else 0).
    /// </summary>
    public int Solve(Span<double> rhs)
    {
        int d = core / lus.Length;
        for (int r = 0; r < lus.Length; r++) lus[r].Solve(rhs.Slice(r * d, d));
        if (tail is null) return 0;
        for (int i = 0; i < core; i++) direction[i] = T.CreateTruncating(rhs[i]);
        tail.CouplingProduct(preparedTime, preparedState, direction.AsSpan(0, core), product);
        for (int i = 0; i < product.Length; i++) rhs[core + i] += preparedHg * double.CreateTruncating(product[i]);
        return 1;
    }
}
