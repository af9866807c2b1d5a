using NeuralOde.AutoDiff;

namespace NeuralOde.Tests.Support;

/// <summary>Central finite differences of seedᵀ·f(inputs) against a tape's reverse sweep, in double.</summary>
public static class GradientCheck
{
    /// <summary>A function of several leaves recorded on a tape.</summary>
    public delegate Var<double> TapeFunction(Tape<double> tape, Var<double>[] inputs);

    /// <summary>
    /// Records f on a tape with every input a gradient-receiving leaf, runs Backward with a random seed, and
    /// compares each input's gradient with central differences (step h); returns the worst relative error
    /// |g − g_fd| / max(1, |g_fd|).
    /// </summary>
    public static double MaxRelativeError(TapeFunction f, double[][] inputs, Shape[] shapes, int seed, double h = 1e-6)
    {
        var rng = new Random(seed);
        var tape = new Tape<double>(chunkLength: 1 << 14);
        var vars = new Var<double>[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) vars[i] = tape.Variable(inputs[i], shapes[i]);
        var output = f(tape, vars);
        var cotangent = new double[output.Shape.Length];
        for (int i = 0; i < cotangent.Length; i++) cotangent[i] = rng.NextDouble() * 2 - 1;
        tape.Backward(output, cotangent, GradientSink<double>.ParameterGradients);
        var analytic = vars.Select(v => v.Gradient.ToArray()).ToArray();

        var scratch = new Tape<double>(chunkLength: 1 << 14);
        double worst = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            for (int j = 0; j < inputs[i].Length; j++)
            {
                double saved = inputs[i][j];
                inputs[i][j] = saved + h;
                double plus = Evaluate(scratch, f, inputs, shapes, cotangent);
                inputs[i][j] = saved - h;
                double minus = Evaluate(scratch, f, inputs, shapes, cotangent);
                inputs[i][j] = saved;
                double numeric = (plus - minus) / (2 * h);
                worst = Math.Max(worst, Math.Abs(analytic[i][j] - numeric) / Math.Max(1, Math.Abs(numeric)));
            }
        }
        return worst;
    }

    private static double Evaluate(Tape<double> tape, TapeFunction f, double[][] inputs, Shape[] shapes, double[] cotangent)
    {
        tape.Reset();
        var vars = new Var<double>[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) vars[i] = tape.Constant(inputs[i], shapes[i]);
        var y = f(tape, vars).Value;
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += y[i] * cotangent[i];
        return s;
    }

    /// <summary>(L(x + ε·e_i) − L(x − ε·e_i)) / 2ε, the central difference in component <paramref name="i"/> of <paramref name="x"/>, which it restores.</summary>
    public static double CentralDifference(Span<double> x, int i, Func<double> loss, double eps = 1e-6)
    {
        double saved = x[i];
        x[i] = saved + eps;
        double up = loss();
        x[i] = saved - eps;
        double down = loss();
        x[i] = saved;
        return (up - down) / (2 * eps);
    }

    /// <summary>Uniform values in [lo, hi) from a seeded stream.</summary>
    public static double[] Random(int length, int seed, double lo = -1, double hi = 1)
    {
        var rng = new Random(seed);
        var a = new double[length];
        for (int i = 0; i < length; i++) a[i] = lo + (hi - lo) * rng.NextDouble();
        return a;
    }

    /// <summary>max_i |actual_i − expected_i| / max_i |expected_i|: the worst difference relative to the largest reference entry.</summary>
    public static double MaxRelativeToLargest(double[] actual, double[] expected)
    {
        double scale = expected.Max(Math.Abs), worst = 0;
        for (int i = 0; i < actual.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]) / scale);
        return worst;
    }
}
