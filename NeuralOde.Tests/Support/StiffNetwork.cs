using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Tests.Support;

/// <summary>
/// A stiff neural vector field for a batch of 3 independent rows: a small tanh MLP plus a decay of rate 200 on the
/// second component (h·λ = −10 at h = 0.05, where explicit RK4 is unstable) and, when forced, sin(3t)·p∘y with a
/// parameter row p, so f depends on t. Optionally it gives its exact Jacobian (from VJPs) and its exact ∂f/∂t,
/// 3cos(3t)·p∘y: a forward difference in t would make the plain solve a rough function of θ at the 1e-7 level, below
/// which its finite differences cannot check a gradient.
/// </summary>
public class StiffNetwork : TapeDynamics<double>
{
    public const int Batch = 3, Width = 2;

    private readonly Mlp<double> network;
    private readonly double[] decay;
    private readonly Parameter<double>? forcing;

    public StiffNetwork(bool forced, double decayRate = 200)
        : this(Mlp.Create<double>(Width, [8], Width, Activation.Tanh, TimeInput.None, seed: 17), forced, decayRate)
    {
    }

    private StiffNetwork(Mlp<double> network, bool forced, double decayRate)
        : base(network.Parameters, new Shape(Batch, Width))
    {
        this.network = network;
        decay = new double[Batch * Width];
        for (int r = 0; r < Batch; r++) decay[r * Width + 1] = -decayRate;
        if (forced)
        {
            forcing = network.Parameters.Add("forcing", new Shape(1, Width));
            forcing.Value[0] = 0.7;
            forcing.Value[1] = -1.3;
        }
    }

    public override int IndependentRows => Batch;

    /// <summary>Unforced, f ignores t (the network has no time input).</summary>
    public override bool IsAutonomous => forcing is null;

    public override Var<double> Record(Tape<double> tape, double t, Var<double> y)
    {
        int rows = y.Shape.Rows;
        var value = Ops.Add(network.Forward(tape, y, t), Ops.Multiply(y, tape.Constant(decay.AsSpan(0, rows * Width), y.Shape)));
        return forcing is null ? value : Ops.Add(value, Ops.Scale(Ops.MultiplyRow(y, tape.Parameter(forcing)), Math.Sin(3 * t)));
    }

    protected void ExactTimeDerivative(double t, ReadOnlySpan<double> y, Span<double> timeDerivative)
    {
        for (int i = 0; i < y.Length; i++) timeDerivative[i] = forcing is null ? 0 : 3 * Math.Cos(3 * t) * forcing.Value[i % Width] * y[i];
    }
}

/// <summary><see cref="StiffNetwork"/> with its exact ∂f/∂y and ∂f/∂t.</summary>
public sealed class ExactStiffNetwork : StiffNetwork, IJacobianDynamics<double>, ITimeDerivativeDynamics<double>
{
    private readonly ExactJacobian<double> jacobian;

    public ExactStiffNetwork(bool forced = true)
        : base(forced) => jacobian = new ExactJacobian<double>(this);

    public void Jacobian(double t, ReadOnlySpan<double> y, Span<double> destination) => jacobian.Jacobian(t, y, destination);

    public void TimeDerivative(double t, ReadOnlySpan<double> y, Span<double> timeDerivative) => ExactTimeDerivative(t, y, timeDerivative);
}
