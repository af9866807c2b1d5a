using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.AutoDiff;

/// <summary>Forward-mode tangents equal finite-difference directional derivatives, and are themselves differentiable.</summary>
public class TangentTests
{
    private const int Seed = 7;
    private const int Batch = 5;
    private const int Width = 3;
    private const double T0 = 0.37;

    public static IEnumerable<TestCaseData> Networks()
    {
        foreach (var time in Enum.GetValues<TimeInput>())
        {
            foreach (var activation in new[] { Activation.Tanh, Activation.Softplus, Activation.Sigmoid, Activation.Elu })
                yield return new TestCaseData(time, activation).SetArgDisplayNames(time.ToString(), activation.ToString());
        }
    }

    private static Mlp<double> Network(TimeInput time, Activation activation) =>
        Mlp.Create<double>(Width, [7, 6], Width, activation, time, Seed);

    private static double[] Evaluate(Mlp<double> net, double[] x, double t)
    {
        var tape = new Tape<double>(1 << 12);
        return net.Forward(tape, tape.Constant(x, new Shape(Batch, Width)), t).Value.ToArray();
    }

    [TestCaseSource(nameof(Networks))]
    public void MlpTangent_EqualsDirectionalDerivative(TimeInput time, Activation activation)
    {
        var net = Network(time, activation);
        var x = GradientCheck.Random(Batch * Width, 1);
        // Two stacked tangent directions, to cover K > 1.
        var v = GradientCheck.Random(2 * Batch * Width, 2);
        var tape = new Tape<double>(1 << 12);
        var dual = net.Forward(tape, tape.Constant(x, new Shape(Batch, Width)), tape.Constant(v, new Shape(2 * Batch, Width)), T0);
        var jv = dual.Tangent.Value.ToArray();

        const double h = 1e-6;
        for (int k = 0; k < 2; k++)
        {
            var plus = (double[])x.Clone();
            var minus = (double[])x.Clone();
            for (int i = 0; i < x.Length; i++)
            {
                plus[i] += h * v[k * x.Length + i];
                minus[i] -= h * v[k * x.Length + i];
            }
            var fp = Evaluate(net, plus, T0);
            var fm = Evaluate(net, minus, T0);
            for (int i = 0; i < fp.Length; i++)
            {
                double numeric = (fp[i] - fm[i]) / (2 * h);
                Assert.That(jv[k * fp.Length + i], Is.EqualTo(numeric).Within(1e-7 * Math.Max(1, Math.Abs(numeric))), $"tangent {k}, element {i}");
            }
        }
        Assert.That(dual.Value.Value.ToArray(), Is.EqualTo(Evaluate(net, x, T0)).Within(1e-15));
    }

    /// <summary>The Hutchinson integrand εᵀ(Jε) differentiated by reverse mode, against central differences in θ and x.</summary>
    [TestCaseSource(nameof(Networks))]
    public void HutchinsonIntegrand_GradientMatchesFiniteDifferences(TimeInput time, Activation activation)
    {
        var net = Network(time, activation);
        var x = GradientCheck.Random(Batch * Width, 3);
        var eps = GradientCheck.Random(Batch * Width, 4);
        double Integrand(double[] xs, Tape<double> tape, out Var<double> xVar, bool record)
        {
            xVar = record ? tape.Variable(xs, new Shape(Batch, Width)) : tape.Constant(xs, new Shape(Batch, Width));
            var e = tape.Constant(eps, new Shape(Batch, Width));
            var dual = net.Forward(tape, xVar, e, T0);
            var value = Ops.Sum(Ops.RowDot(dual.Tangent, e));
            if (record) tape.Backward(value);
            return value.Value[0];
        }

        var tape = new Tape<double>(1 << 12);
        net.Parameters.ZeroGradients();
        Integrand(x, tape, out var xv, record: true);
        var gradX = xv.Gradient.ToArray();
        var gradTheta = net.Parameters.Gradients.ToArray();

        const double h = 1e-6;
        var scratch = new Tape<double>(1 << 12);
        double Value(double[] xs) { scratch.Reset(); return Integrand(xs, scratch, out _, record: false); }
        for (int i = 0; i < x.Length; i++)
        {
            double saved = x[i];
            x[i] = saved + h; double plus = Value(x);
            x[i] = saved - h; double minus = Value(x);
            x[i] = saved;
            double numeric = (plus - minus) / (2 * h);
            Assert.That(gradX[i], Is.EqualTo(numeric).Within(1e-6 * Math.Max(1, Math.Abs(numeric))), $"x[{i}]");
        }
        var theta = net.Parameters.Values;
        for (int i = 0; i < theta.Length; i++)
        {
            double saved = theta[i];
            theta[i] = saved + h; double plus = Value(x);
            theta[i] = saved - h; double minus = Value(x);
            theta[i] = saved;
            double numeric = (plus - minus) / (2 * h);
            Assert.That(gradTheta[i], Is.EqualTo(numeric).Within(1e-6 * Math.Max(1, Math.Abs(numeric))), $"θ[{i}]");
        }
    }

    [TestCaseSource(nameof(Networks))]
    public void MlpParameterGradient_MatchesFiniteDifferences(TimeInput time, Activation activation)
    {
        var net = Network(time, activation);
        var x = GradientCheck.Random(Batch * Width, 5);
        var seed = GradientCheck.Random(Batch * Width, 6);
        var tape = new Tape<double>(1 << 12);
        net.Parameters.ZeroGradients();
        var y = net.Forward(tape, tape.Constant(x, new Shape(Batch, Width)), T0);
        tape.Backward(y, seed, GradientSink<double>.ParameterGradients);
        var analytic = net.Parameters.Gradients.ToArray();

        const double h = 1e-6;
        var theta = net.Parameters.Values;
        for (int i = 0; i < theta.Length; i++)
        {
            double saved = theta[i];
            theta[i] = saved + h; var fp = Evaluate(net, x, T0);
            theta[i] = saved - h; var fm = Evaluate(net, x, T0);
            theta[i] = saved;
            double numeric = 0;
            for (int j = 0; j < fp.Length; j++) numeric += seed[j] * (fp[j] - fm[j]) / (2 * h);
            Assert.That(analytic[i], Is.EqualTo(numeric).Within(1e-7 * Math.Max(1, Math.Abs(numeric))), $"θ[{i}] ({net.Parameters.Parameters.First(p => p.Offset <= i && i < p.Offset + p.Length).Name})");
        }
    }
}
