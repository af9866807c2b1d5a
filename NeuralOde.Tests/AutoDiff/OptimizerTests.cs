using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.AutoDiff.Optim;

namespace NeuralOde.Tests.AutoDiff;

/// <summary>
/// Each optimizer against PyTorch's documented update formulas written out in scalar double arithmetic, on the
/// loss Σ (θ − target)² + 0.3·t·Σθ (a gradient that changes with the step, so momentum terms matter).
/// </summary>
public class OptimizerTests
{
    private static readonly double[] Initial = [0.5, -1.2, 2.0, 0.0, -0.03];
    private static readonly double[] Target = [1.0, 0.25, -0.5, 0.1, 3.0];
    private const int Steps = 3;

    public static readonly string[] Configurations =
    [
        "Adam", "Adam(wd=0.1, eps=1e-3, betas=0.8/0.9)", "AdamW", "AdamW(wd=0.3, lr=0.05)",
        "Sgd", "Sgd(momentum=0.9, dampening=0.1)", "Sgd(nesterov, momentum=0.9, wd=0.05)",
        "RmsProp", "RmsProp(centered, momentum=0.5, wd=0.1, eps=1e-3)", "RmsProp(momentum=0.9)",
    ];

    private static double Gradient(double theta, int i, int step) => (2 * (theta - Target[i])) + (0.3 * step);

    private static IOptimizer Create<T>(string configuration, ParameterSet<T> set)
        where T : unmanaged, IFloatingPointIeee754<T> => configuration switch
        {
            "Adam" => new Adam<T>(set, learningRate: 0.1),
            "Adam(wd=0.1, eps=1e-3, betas=0.8/0.9)" => new Adam<T>(set, learningRate: 0.1, beta1: 0.8, beta2: 0.9, epsilon: 1e-3, weightDecay: 0.1),
            "AdamW" => new AdamW<T>(set, learningRate: 0.1),
            "AdamW(wd=0.3, lr=0.05)" => new AdamW<T>(set, learningRate: 0.05, weightDecay: 0.3),
            "Sgd" => new Sgd<T>(set, learningRate: 0.1),
            "Sgd(momentum=0.9, dampening=0.1)" => new Sgd<T>(set, learningRate: 0.1, momentum: 0.9, dampening: 0.1),
            "Sgd(nesterov, momentum=0.9, wd=0.05)" => new Sgd<T>(set, learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.05),
            "RmsProp" => new RmsProp<T>(set),
            "RmsProp(centered, momentum=0.5, wd=0.1, eps=1e-3)" => new RmsProp<T>(set, learningRate: 0.01, epsilon: 1e-3, momentum: 0.5, centered: true, weightDecay: 0.1),
            "RmsProp(momentum=0.9)" => new RmsProp<T>(set, learningRate: 0.02, alpha: 0.9, momentum: 0.9),
            _ => throw new ArgumentException(configuration),
        };

    /// <summary>The trajectory of one coordinate, straight from the formulas in PyTorch's documentation.</summary>
    private static double Reference(string configuration, int i)
    {
        double theta = Initial[i];
        double m = 0, v = 0, buffer = 0, average = 0;
        for (int t = 1; t <= Steps; t++)
        {
            double g = Gradient(theta, i, t);
            switch (configuration)
            {
                case "Adam": Adam(0.1, 0.9, 0.999, 1e-8, 0, 0); break;
                case "Adam(wd=0.1, eps=1e-3, betas=0.8/0.9)": Adam(0.1, 0.8, 0.9, 1e-3, 0.1, 0); break;
                case "AdamW": Adam(0.1, 0.9, 0.999, 1e-8, 0, 1e-2); break;
                case "AdamW(wd=0.3, lr=0.05)": Adam(0.05, 0.9, 0.999, 1e-8, 0, 0.3); break;
                case "Sgd": Sgd(0.1, 0, 0, false, 0); break;
                case "Sgd(momentum=0.9, dampening=0.1)": Sgd(0.1, 0.9, 0.1, false, 0); break;
                case "Sgd(nesterov, momentum=0.9, wd=0.05)": Sgd(0.1, 0.9, 0, true, 0.05); break;
                case "RmsProp": RmsProp(0.01, 0.99, 1e-8, 0, false, 0); break;
                case "RmsProp(centered, momentum=0.5, wd=0.1, eps=1e-3)": RmsProp(0.01, 0.99, 1e-3, 0.5, true, 0.1); break;
                case "RmsProp(momentum=0.9)": RmsProp(0.02, 0.9, 1e-8, 0.9, false, 0); break;
                default: throw new ArgumentException(configuration);
            }

            void Adam(double lr, double beta1, double beta2, double eps, double l2, double decoupled)
            {
                theta *= 1 - (lr * decoupled);
                double gg = g + (l2 * theta);
                m = (beta1 * m) + ((1 - beta1) * gg);
                v = (beta2 * v) + ((1 - beta2) * gg * gg);
                double mHat = m / (1 - Math.Pow(beta1, t));
                double vHat = v / (1 - Math.Pow(beta2, t));
                theta -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }

            void Sgd(double lr, double momentum, double dampening, bool nesterov, double wd)
            {
                double gg = g + (wd * theta);
                if (momentum != 0)
                {
                    buffer = t == 1 ? gg : (momentum * buffer) + ((1 - dampening) * gg);
                    gg = nesterov ? gg + (momentum * buffer) : buffer;
                }
                theta -= lr * gg;
            }

            void RmsProp(double lr, double alpha, double eps, double momentum, bool centered, double wd)
            {
                double gg = g + (wd * theta);
                v = (alpha * v) + ((1 - alpha) * gg * gg);
                double denominator;
                if (centered)
                {
                    average = (alpha * average) + ((1 - alpha) * gg);
                    denominator = Math.Sqrt(v - (average * average)) + eps;
                }
                else
                {
                    denominator = Math.Sqrt(v) + eps;
                }
                if (momentum > 0)
                {
                    buffer = (momentum * buffer) + (gg / denominator);
                    theta -= lr * buffer;
                }
                else
                {
                    theta -= lr * gg / denominator;
                }
            }
        }
        return theta;
    }

    private static void MatchesReference<T>(string configuration, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var set = new ParameterSet<T>();
        set.Add("a", new Shape(1, 2));
        set.Add("b", new Shape(3, 1));
        for (int i = 0; i < Initial.Length; i++) set.Values[i] = T.CreateChecked(Initial[i]);
        var optimizer = Create(configuration, set);
        for (int t = 1; t <= Steps; t++)
        {
            for (int i = 0; i < Initial.Length; i++)
                set.Gradients[i] = T.CreateChecked(Gradient(double.CreateChecked(set.Values[i]), i, t));
            optimizer.Step();
        }
        Assert.That(optimizer.StepCount, Is.EqualTo(Steps));
        for (int i = 0; i < Initial.Length; i++)
        {
            double expected = Reference(configuration, i);
            double actual = double.CreateChecked(set.Values[i]);
            Assert.That(actual, Is.EqualTo(expected).Within(tolerance * Math.Max(1, Math.Abs(expected))), $"{configuration}, element {i}");
            Assert.That(Math.Abs(expected - Initial[i]), Is.GreaterThan(1e-3), "the reference moved");
        }
    }

    [TestCaseSource(nameof(Configurations))]
    public void ThreeSteps_MatchHandComputedPyTorchFormulas_Double(string configuration) => MatchesReference<double>(configuration, 1e-13);

    [TestCaseSource(nameof(Configurations))]
    public void ThreeSteps_MatchHandComputedPyTorchFormulas_Float(string configuration) => MatchesReference<float>(configuration, 2e-6);

    [TestCaseSource(nameof(Configurations))]
    public void WarmStep_AllocatesNothing(string configuration)
    {
        var set = new ParameterSet<float>();
        set.Add("w", new Shape(16, 33));
        set.Add("b", new Shape(1, 16));
        var rng = new Random(7);
        for (int i = 0; i < set.Length; i++)
        {
            set.Values[i] = (float)rng.NextDouble();
            set.Gradients[i] = (float)(rng.NextDouble() - 0.5);
        }
        var optimizer = Create(configuration, set);
        for (int i = 0; i < 5; i++) optimizer.Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) optimizer.Step();
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.That(after - before, Is.Zero);
    }

    [Test]
    public void Adam_MinimisesAQuadratic()
    {
        var set = new ParameterSet<double>();
        set.Add("x", new Shape(1, Target.Length));
        Initial.CopyTo(set.Values);
        var adam = new Adam<double>(set, learningRate: 0.05);
        for (int step = 0; step < 2000; step++)
        {
            for (int i = 0; i < Target.Length; i++) set.Gradients[i] = 2 * (set.Values[i] - Target[i]);
            adam.Step();
        }
        Assert.That(set.Values.ToArray(), Is.EqualTo(Target).Within(1e-4));
    }

    [Test]
    public void Step_LeavesTheCallersGradientsUntouched()
    {
        var set = new ParameterSet<double>();
        set.Add("x", new Shape(1, 3));
        set.Values.Fill(1.0);
        set.Gradients.Fill(0.5);
        new Adam<double>(set, weightDecay: 0.1).Step();
        new Sgd<double>(set, learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.1).Step();
        new RmsProp<double>(set, weightDecay: 0.1, centered: true).Step();
        Assert.That(set.Gradients.ToArray(), Is.All.EqualTo(0.5));
    }

    [Test]
    public void LearningRate_CanBeChangedBetweenSteps()
    {
        var set = new ParameterSet<double>();
        set.Add("x", new Shape(1, 1));
        set.Gradients[0] = 2.0;
        var sgd = new Sgd<double>(set, learningRate: 0.1);
        sgd.Step();
        sgd.LearningRate = 0.01;
        sgd.Step();
        Assert.That(set.Values[0], Is.EqualTo(-0.22).Within(1e-15));
        sgd.ZeroGradients();
        Assert.That(set.Gradients[0], Is.Zero);
    }

    [Test]
    public void ClipNorm_ScalesAsTorch()
    {
        var set = new ParameterSet<double>();
        set.Add("a", new Shape(1, 2));
        set.Add("b", new Shape(1, 1));
        double[] g = [3, 4, 12];
        g.CopyTo(set.Gradients);
        double norm = GradientClipping.ClipNorm(set, 6.5);
        Assert.That(norm, Is.EqualTo(13).Within(1e-14));
        double scale = 6.5 / (13 + 1e-6);
        Assert.That(set.Gradients.ToArray(), Is.EqualTo(g.Select(x => x * scale).ToArray()).Within(1e-14));

        g.CopyTo(set.Gradients);
        Assert.That(GradientClipping.ClipNorm(set, 20.0), Is.EqualTo(13).Within(1e-14));
        Assert.That(set.Gradients.ToArray(), Is.EqualTo(g));

        var single = new float[] { 3, 4 };
        Assert.That(GradientClipping.ClipNorm<float>(single, 1.0), Is.EqualTo(5).Within(1e-6));
        Assert.That(single, Is.EqualTo(new[] { 0.6f, 0.8f }).Within(1e-6));
    }

    [Test]
    public void ClipNorm_NonFiniteGradient_Throws()
    {
        var g = new double[] { 1, double.NaN };
        Assert.That(() => GradientClipping.ClipNorm<double>(g, 1.0), Throws.TypeOf<ArithmeticException>());
    }

    private static ParameterSet<double> Small()
    {
        var set = new ParameterSet<double>();
        set.Add("x", new Shape(1, 2));
        return set;
    }

    private static void ThrowsNaming(TestDelegate action, string paramName, string value)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(action);
        Assert.That(ex!.ParamName, Is.EqualTo(paramName));
        Assert.That(ex.Message, Does.Contain(value));
    }

    [Test]
    public void BadArguments_ThrowNamingArgumentAndValue()
    {
        ThrowsNaming(() => _ = new Adam<double>(Small(), learningRate: -1), "LearningRate", "-1");
        ThrowsNaming(() => _ = new Adam<double>(Small(), learningRate: double.NaN), "LearningRate", "NaN");
        ThrowsNaming(() => _ = new Adam<double>(Small(), beta1: 1.0), "beta1", "1");
        ThrowsNaming(() => _ = new AdamW<float>(new ParameterSet<float>(), beta2: -0.1), "beta2", "-0.1");
        ThrowsNaming(() => _ = new Adam<double>(Small(), epsilon: -1e-8), "epsilon", "-1E-08");
        ThrowsNaming(() => _ = new AdamW<double>(Small(), weightDecay: double.PositiveInfinity), "weightDecay", "Infinity");
        ThrowsNaming(() => _ = new Sgd<double>(Small(), learningRate: 0.1, momentum: -0.5), "momentum", "-0.5");
        ThrowsNaming(() => _ = new Sgd<double>(Small(), learningRate: 0.1, dampening: 2), "dampening", "2");
        ThrowsNaming(() => _ = new RmsProp<double>(Small(), alpha: 1.5), "alpha", "1.5");
        ThrowsNaming(() => new Adam<double>(Small()).LearningRate = double.NaN, "LearningRate", "NaN");
        ThrowsNaming(() => GradientClipping.ClipNorm(Small(), -1.0), "maxNorm", "-1");
        var nesterov = Assert.Throws<ArgumentException>(() => _ = new Sgd<double>(Small(), learningRate: 0.1, nesterov: true));
        Assert.That(nesterov!.ParamName, Is.EqualTo("nesterov"));
    }
}
