using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Tests.Support;

/// <summary>z' = θ·z for a scalar θ, with a second parameter φ that the dynamics never use (its gradient must be 0).</summary>
public sealed class ScalarGrowth : IDifferentiableDynamics<double>
{
    public ScalarGrowth(double theta, int dimension = 1)
    {
        Dimension = dimension;
        Theta = Parameters.Add("theta", Shape.Scalar);
        Unused = Parameters.Add("unused", Shape.Scalar);
        Parameters.Values[0] = theta;
    }

    public int Dimension { get; }

    public ParameterSet<double> Parameters { get; } = new();

    public Parameter<double> Theta { get; }

    public Parameter<double> Unused { get; }

    public void Evaluate(double t, ReadOnlySpan<double> y, Span<double> dydt)
    {
        for (int i = 0; i < y.Length; i++) dydt[i] = Parameters.Values[0] * y[i];
    }

    public void Vjp(double t, ReadOnlySpan<double> y, ReadOnlySpan<double> cotangent, Span<double> gradY, Span<double> gradTheta)
    {
        double theta = Parameters.Values[0], sum = 0;
        for (int i = 0; i < y.Length; i++)
        {
            gradY[i] = theta * cotangent[i];
            sum += cotangent[i] * y[i];
        }
        gradTheta[0] = sum;
        gradTheta[1] = 0;
    }

    public Var<double> Record(Tape<double> tape, double t, Var<double> y) =>
        Ops.MultiplyColumn(y, Ops.BroadcastRows(tape.Parameter(Theta), y.Shape.Rows));
}
