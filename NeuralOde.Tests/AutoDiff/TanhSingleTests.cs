using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Kernels;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.AutoDiff;

/// <summary>
/// The float tanh kernel against the correctly rounded tanh (Math.Tanh in double, rounded once to float), at every
/// width this machine accelerates and in the scalar tail.
/// </summary>
[TestFixture]
internal sealed class TanhSingleTests
{
    /// <summary>Every 13th bit pattern of the non-negative floats, 0 to +∞ (164.5 million values).</summary>
    private const int Stride = 13;

    private static IEnumerable<TestCaseData> Widths() =>
        KernelWidths.Accelerated.Select(path => new TestCaseData(path).SetArgDisplayNames($"{path}"));

    [Test]
    public void EveryThirteenthFloat_IsWithinOneUlpOfTheCorrectlyRoundedTanh()
    {
        int top = BitConverter.SingleToInt32Bits(float.PositiveInfinity);
        const int chunk = 1 << 16;
        var x = new float[chunk];
        var y = new float[chunk];
        long count = 0, offByOne = 0, worst = 0;
        float worstAt = 0;
        for (long start = 0; start <= top; start += (long)chunk * Stride)
        {
            int n = (int)Math.Min(chunk, (top - start) / Stride + 1);
            for (int i = 0; i < n; i++) x[i] = BitConverter.Int32BitsToSingle((int)(start + (long)i * Stride));
            ElementwiseDriver.Apply<float, TanhSingle>(x.AsSpan(0, n), y.AsSpan(0, n));
            for (int i = 0; i < n; i++)
            {
                long ulps = Math.Abs((long)BitConverter.SingleToInt32Bits(y[i]) - BitConverter.SingleToInt32Bits((float)Math.Tanh(x[i])));
                if (ulps == 1) offByOne++;
                if (ulps > worst) (worst, worstAt) = (ulps, x[i]);
            }
            count += n;
        }
        TestContext.Out.WriteLine($"{count} floats: {offByOne} ({100.0 * offByOne / count:F3} %) 1 ulp from the correctly rounded tanh, worst {worst} ulp at {worstAt:R}");
        Assert.That(count, Is.EqualTo(top / Stride + 1), "the sweep covers the range");
        Assert.That(worst, Is.LessThanOrEqualTo(1), $"worst at {worstAt:R}");
        Assert.That(offByOne, Is.LessThan(count / 200), "faithful rounding is the exception: under 0.5 % of values");
    }

    [Test]
    public void SpecialValues_KeepTheirMeaning_AndTheFunctionIsOdd()
    {
        float[] x = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, float.Epsilon, -float.Epsilon, 1e-30f, 9.5f, 9.6f, 20f, 1e30f, float.MaxValue, 1f, 1.0000001f, 0.99999994f];
        var y = new float[x.Length];
        ElementwiseDriver.Apply<float, TanhSingle>(x, y, GemmPath.Scalar);
        Assert.That(float.IsNaN(y[0]), "NaN stays NaN");
        Assert.That(y[1], Is.EqualTo(1f));
        Assert.That(y[2], Is.EqualTo(-1f));
        Assert.That(BitConverter.SingleToInt32Bits(y[3]), Is.EqualTo(0), "+0 stays +0");
        Assert.That(BitConverter.SingleToInt32Bits(y[4]), Is.EqualTo(int.MinValue), "−0 stays −0");
        Assert.That(y[5], Is.EqualTo(float.Epsilon), "a subnormal is its own tanh");
        Assert.That(y[6], Is.EqualTo(-float.Epsilon));
        Assert.That(y[7], Is.EqualTo(1e-30f));
        for (int i = 8; i < 13; i++) Assert.That(y[i], Is.EqualTo(1f), $"tanh({x[i]:R}) rounds to 1");
        for (int i = 13; i < x.Length; i++) Assert.That(y[i], Is.EqualTo((float)Math.Tanh(x[i])).Within(1).Ulps, $"either side of the formulas' split, x = {x[i]:R}");

        var random = new Random(7);
        float[] u = Enumerable.Range(0, 1000).Select(_ => (float)(random.NextDouble() * 24 - 12)).ToArray();
        float[] negated = u.Select(v => -v).ToArray();
        var tu = new float[u.Length];
        var tn = new float[u.Length];
        ElementwiseDriver.Apply<float, TanhSingle>(u, tu);
        ElementwiseDriver.Apply<float, TanhSingle>(negated, tn);
        for (int i = 0; i < u.Length; i++) Assert.That(tn[i], Is.EqualTo(-tu[i]), $"tanh(−x) = −tanh(x) at {u[i]:R}");
    }

    [TestCaseSource(nameof(Widths))]
    public void AtEachWidth_IsBitwiseTheScalarFormula_InPlaceToo(GemmPath path)
    {
        var random = new Random(20261203);
        foreach (int n in new[] { 0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 33, 100, 257 })
        {
            // Both formulas and their split, large values, exact zeros.
            float[] x = Enumerable.Range(0, n).Select(i => i % 7 == 0 ? 0f : (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-8, 2)))).ToArray();
            var vector = new float[n];
            var scalar = new float[n];
            ElementwiseDriver.Apply<float, TanhSingle>(x, vector, path);
            for (int i = 0; i < n; i++) scalar[i] = TanhSingle.Invoke(x[i]);
            for (int i = 0; i < n; i++)
                Assert.That(BitConverter.SingleToInt32Bits(vector[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(scalar[i])), $"{path}, n = {n}, x = {x[i]:R}");
            ElementwiseDriver.Apply<float, TanhSingle>(x, x, path);
            Assert.That(x, Is.EqualTo(vector), "in place, the same values");
        }
    }

    [TestCaseSource(nameof(Widths))]
    public void VectorsWhollyOnOneSideOfTheSplit_AreBitwiseTheScalarFormula(GemmPath path)
    {
        // Runs of 64 lanes (whole vectors at every width) all within |x| ≤ 1, all above it, then alternating lanes,
        // with the split's neighbours and NaN: the kernel's one-formula shortcuts must give each lane's mixed result.
        var random = new Random(20261204);
        float[] x = new float[256];
        for (int i = 0; i < 64; i++) x[i] = (float)((random.NextDouble() * 2 - 1) * (i % 8 == 0 ? 1.0 : 0.7));
        for (int i = 64; i < 128; i++) x[i] = (float)((random.NextDouble() < 0.5 ? -1 : 1) * (1.0000001 + random.NextDouble() * 11));
        for (int i = 128; i < 192; i++) x[i] = i % 2 == 0 ? x[i - 128] : x[i - 64];
        for (int i = 192; i < 256; i++) x[i] = (i % 4) switch { 0 => 1f, 1 => 1.0000001f, 2 => -0.99999994f, _ => -1.0000001f };
        x[3] = float.NaN;
        x[70] = float.NaN;
        x[100] = float.PositiveInfinity;
        var vector = new float[x.Length];
        ElementwiseDriver.Apply<float, TanhSingle>(x, vector, path);
        for (int i = 0; i < x.Length; i++)
            Assert.That(BitConverter.SingleToInt32Bits(vector[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(TanhSingle.Invoke(x[i]))), $"{path}, x[{i}] = {x[i]:R}");
    }

    [Test]
    public void TanhOp_InFloat_RunsThisKernel_AndInDoubleTensorPrimitives()
    {
        var random = new Random(3);
        float[] xf = Enumerable.Range(0, 300).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray();
        var tape = new Tape<float>();
        float[] yf = Ops.Tanh(tape.Constant(xf)).Value.ToArray();
        var expected = new float[xf.Length];
        ElementwiseDriver.Apply<float, TanhSingle>(xf, expected);
        Assert.That(yf, Is.EqualTo(expected), "float tanh on the tape is this kernel, bit for bit");

        double[] xd = xf.Select(v => (double)v).ToArray();
        var tapeD = new Tape<double>();
        double[] yd = Ops.Tanh(tapeD.Constant(xd)).Value.ToArray();
        // TensorPrimitives' double tanh, (1 − e^{−2y})/(1 + e^{−2y}), is accurate in absolute terms (8 ulps relative at
        // x = 0.0168 here, 2.8e-17 absolute).
        for (int i = 0; i < xd.Length; i++) Assert.That(yd[i], Is.EqualTo(Math.Tanh(xd[i])).Within(2.3e-16), $"double tanh at {xd[i]:R}");
    }
}
