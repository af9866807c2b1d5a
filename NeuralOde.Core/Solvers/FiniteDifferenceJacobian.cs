using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// ∂f/∂y and ∂f/∂t at (t, y0) by forward differences from a known f(t, y0): n + 1 evaluations of f, in double whatever
/// the state's type. The one Jacobian of the Rosenbrock steppers for dynamics that give no Jacobian of their own.
/// </summary>
internal sealed class FiniteDifferenceJacobian<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // √ε of the state's type: the forward difference's truncation and rounding errors balance there.
    private static readonly double Root = Math.Sqrt(typeof(T) == typeof(float) ? Math.Pow(2, -23) : Math.Pow(2, -52));

    private readonly int n;
    private readonly T[] probe, fProbe;

    public FiniteDifferenceJacobian(int n)
    {
        this.n = n;
        Jacobian = new double[n * n];
        TimeDerivative = new double[n];
        probe = new T[n];
        fProbe = new T[n];
    }

    /// <summary>∂f/∂y, row-major n × n.</summary>
    public double[] Jacobian { get; }

    /// <summary>∂f/∂t.</summary>
    public double[] TimeDerivative { get; }

    /// <summary>Differentiates f at (t, y0), given f0 = f(t, y0) and the coming step h; returns the evaluations made (n + 1).</summary>
    public int Evaluate(IDynamics<T> f, double t, double h, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0)
    {
        double[] jacobian = Jacobian, timeDerivative = TimeDerivative;
        y0.CopyTo(probe);
        for (int j = 0; j < n; j++)
        {
            T yj = y0[j];
            // The component's own scale, or how far one step moves it, never 1 for a tiny component (Robertson's y2
            // is 1e-5: a unit-scaled difference would step far outside its quadratic term's linear range).
            double scale = Math.Max(Math.Abs(double.CreateTruncating(yj)), Math.Abs(h * double.CreateTruncating(f0[j])));
            if (!(scale > 0) || !double.IsFinite(scale)) scale = 1;
            T stepped = yj + T.CreateTruncating(Root * scale);
            double delta = double.CreateTruncating(stepped - yj);
            probe[j] = stepped;
            f.Evaluate(t, probe, fProbe);
            probe[j] = yj;
            for (int i = 0; i < n; i++) jacobian[i * n + j] = (double.CreateTruncating(fProbe[i]) - double.CreateTruncating(f0[i])) / delta;
        }
        double dt = Root * Math.Max(Math.Max(Math.Abs(t), Math.Abs(h)), 1e-300);
        dt = (t + dt) - t;
        f.Evaluate(t + dt, y0, fProbe);
        for (int i = 0; i < n; i++) timeDerivative[i] = (double.CreateTruncating(fProbe[i]) - double.CreateTruncating(f0[i])) / dt;
        return n + 1;
    }
}
