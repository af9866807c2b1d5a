using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// ∂f/∂y and ∂f/∂t at (t, y0) by forward differences from a known f(t, y0), in double whatever the state's type. The
/// one Jacobian of the Rosenbrock and ESDIRK steppers for dynamics that give no Jacobian of their own.
/// </summary>
/// <remarks>
/// For a state of B independent rows of D components (<see cref="IDifferentiableDynamics{T}.IndependentRows"/>) the
/// Jacobian is block diagonal: column j of every block is found by one evaluation that perturbs component j of every
/// row at once, so the cost is D + 1 evaluations, not B·D + 1, and the storage B·D², not (B·D)² (Curtis, Powell and
/// Reid's grouping of structurally orthogonal columns). With B = 1 it is the ordinary n + 1 evaluation difference.
/// </remarks>
internal sealed class FiniteDifferenceJacobian<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly double Root = DifferenceSteps<T>.Forward;

    private readonly int n, core, blocks, width;
    private readonly T[] probe, fProbe;
    private readonly double[] deltas;

    /// <summary>The blocks: 1, or the independent rows of the dynamics.</summary>
    public int Blocks => blocks;

    /// <summary>
    /// A Jacobian of <paramref name="blocks"/> diagonal blocks, each <paramref name="core"/>/<paramref name="blocks"/>
    /// square, of the first <paramref name="core"/> components (all n unless a quadrature tail follows them).
    /// </summary>
    public FiniteDifferenceJacobian(int n, int blocks = 1, int core = -1)
    {
        this.n = n;
        this.core = core < 0 ? n : core;
        this.blocks = blocks;
        width = this.core / blocks;
        Jacobian = new double[blocks * width * width];
        probe = new T[n];
        fProbe = new T[n];
        deltas = new double[blocks];
    }

    /// <summary>The components differentiated: the state's, or its core before a quadrature tail.</summary>
    public int Core => core;

    /// <summary>The diagonal blocks of ∂f/∂y (of the core), block r at r·D², each row-major D × D.</summary>
    public double[] Jacobian { get; }

    /// <summary>
    /// Differentiates f at (t, y0), given f0 = f(t, y0) and the coming step h, writing ∂f/∂t to
    /// <paramref name="timeDerivative"/> unless it is empty; returns the evaluations made (D + 1, or D without ∂f/∂t).
    /// </summary>
    public int Evaluate(IDynamics<T> f, double t, double h, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0, Span<double> timeDerivative)
    {
        double[] jacobian = Jacobian;
        int d = width;
        y0.CopyTo(probe);
        for (int j = 0; j < d; j++)
        {
            for (int r = 0; r < blocks; r++)
            {
                int k = r * d + j;
                T yk = y0[k];
                // The component's own scale, or how far one step moves it, never 1 for a tiny component (Robertson's y2
                // is 1e-5: a unit-scaled difference would step far outside its quadratic term's linear range).
                double scale = Math.Max(Math.Abs(double.CreateTruncating(yk)), Math.Abs(h * double.CreateTruncating(f0[k])));
                if (!(scale > 0) || !double.IsFinite(scale)) scale = 1;
                T stepped = yk + T.CreateTruncating(Root * scale);
                deltas[r] = double.CreateTruncating(stepped - yk);
                probe[k] = stepped;
            }
            f.Evaluate(t, probe, fProbe);
            for (int r = 0; r < blocks; r++)
            {
                int offset = r * d, block = r * d * d;
                probe[offset + j] = y0[offset + j];
                double delta = deltas[r];
                for (int i = 0; i < d; i++)
                    jacobian[block + i * d + j] = (double.CreateTruncating(fProbe[offset + i]) - double.CreateTruncating(f0[offset + i])) / delta;
            }
        }
        return d + TimeDerivative(f, t, h, y0, f0, timeDerivative);
    }

    /// <summary>∂f/∂t at (t, y0) by a forward difference into <paramref name="timeDerivative"/> unless it is empty; returns the evaluations made (1 or 0).</summary>
    public int TimeDerivative(IDynamics<T> f, double t, double h, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0, Span<double> timeDerivative)
    {
        if (timeDerivative.IsEmpty) return 0;
        double dt = Root * Math.Max(Math.Max(Math.Abs(t), Math.Abs(h)), 1e-300);
        dt = (t + dt) - t;
        f.Evaluate(t + dt, y0, fProbe);
        for (int i = 0; i < n; i++) timeDerivative[i] = (double.CreateTruncating(fProbe[i]) - double.CreateTruncating(f0[i])) / dt;
        return 1;
    }
}
