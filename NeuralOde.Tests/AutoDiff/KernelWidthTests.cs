using System.Numerics;
using System.Runtime.Intrinsics;
using NeuralOde.AutoDiff.Kernels;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.AutoDiff;

/// <summary>
/// The element-wise driver and the column sums at every width this machine accelerates, against their scalar paths;
/// widths it does not accelerate are reported once here instead of as one skipped test per case.
/// </summary>
[TestFixture]
internal sealed class KernelWidthTests
{
    private const int Seed = 20261202;

    /// <summary>Lengths around every width's register (and two registers) plus a tail.</summary>
    private static readonly int[] Lengths = [0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 33, 64, 100, 257];

    private static IEnumerable<TestCaseData> VectorWidths() =>
        from path in KernelWidths.AcceleratedVectors
        from type in new[] { typeof(float), typeof(double) }
        select new TestCaseData(path, type).SetArgDisplayNames($"{path}", type.Name);

    [Test]
    public void UnacceleratedWidths_AreReportedOnce()
    {
        TestContext.Out.WriteLine($"accelerated: Vector512 {Vector512.IsHardwareAccelerated}, Vector256 {Vector256.IsHardwareAccelerated}, Vector128 {Vector128.IsHardwareAccelerated}; kernel default {Gemm.DefaultPath}");
        Assert.That(Gemm.DefaultPath, Is.EqualTo(KernelWidths.Accelerated[0]), "the kernels default to the widest accelerated width");
        if (KernelWidths.Unaccelerated.Length > 0)
        {
            Assert.Ignore($"not hardware accelerated here, so their width-specific kernel tests are not generated: {string.Join(", ", KernelWidths.Unaccelerated)}");
        }
    }

    [TestCaseSource(nameof(VectorWidths))]
    public void ActivationDerivatives_AtEachWidth_AreBitwiseTheScalarFormula_ExceptSoftplusWithinAnUlp(GemmPath path, Type type)
    {
        if (type == typeof(float)) Derivatives<float>(path);
        else Derivatives<double>(path);
    }

    [TestCaseSource(nameof(VectorWidths))]
    public void ColumnSums_AtEachWidth_AreBitwiseTheScalarSums(GemmPath path, Type type)
    {
        if (type == typeof(float)) ColumnSums<float>(path);
        else ColumnSums<double>(path);
    }

    private static T[] Random<T>(int length, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => T.CreateTruncating(random.NextDouble() * 2 - 1)).ToArray();
    }

    private static void Derivatives<T>(GemmPath path)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Bitwise<T, GradientTimesDerivative<T, TanhDerivative<T>>>(path);
        Bitwise<T, GradientTimesSecondDerivative<T, TanhDerivative<T>>>(path);
        Bitwise<T, DerivativeOf<T, SigmoidDerivative<T>>>(path);
        Bitwise<T, GradientTimesSecondDerivative<T, SigmoidDerivative<T>>>(path);
        Bitwise<T, GradientTimesDerivative<T, ReluDerivative<T>>>(path);
        Bitwise<T, GradientTimesDerivative<T, EluDerivative<T>>>(path);
        Bitwise<T, GradientTimesSecondDerivative<T, EluDerivative<T>>>(path);
        Bitwise<T, GradientTimesDerivative<T, IdentityDerivative<T>>>(path);
        // Softplus's vector exp and the scalar Math.Exp may round differently in the last bit.
        Close<T, GradientTimesDerivative<T, SoftplusDerivative<T>>>(path);
        Close<T, GradientTimesSecondDerivative<T, SoftplusDerivative<T>>>(path);
    }

    private static void Run<T, TOp>(GemmPath path, out T[] vector, out T[] scalar, int n, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IBinaryOperator<T>
    {
        T[] g = Random<T>(n, Seed + n);
        // Outputs of tanh/sigmoid/softplus-like size and sign, including zeros for ReLU/ELU's branch.
        T[] y = Random<T>(n, Seed - n).Select((v, i) => i % 5 == 0 ? T.Zero : v).ToArray();
        scalar = Random<T>(n, Seed * 3 + n);
        vector = (T[])scalar.Clone();
        ElementwiseDriver.Apply<T, TOp>(g, y, scalar, accumulate, GemmPath.Scalar);
        ElementwiseDriver.Apply<T, TOp>(g, y, vector, accumulate, path);
    }

    private static void Bitwise<T, TOp>(GemmPath path)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IBinaryOperator<T>
    {
        foreach (int n in Lengths)
        {
            foreach (bool accumulate in new[] { false, true })
            {
                Run<T, TOp>(path, out var vector, out var scalar, n, accumulate);
                Assert.That(vector, Is.EqualTo(scalar), $"{typeof(TOp).Name} {path} n={n} accumulate={accumulate}");
            }
        }
    }

    private static void Close<T, TOp>(GemmPath path)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IBinaryOperator<T>
    {
        double tolerance = typeof(T) == typeof(float) ? 4e-7 : 1e-15;
        foreach (int n in Lengths)
        {
            foreach (bool accumulate in new[] { false, true })
            {
                Run<T, TOp>(path, out var vector, out var scalar, n, accumulate);
                for (int i = 0; i < n; i++)
                {
                    double expected = double.CreateChecked(scalar[i]);
                    Assert.That(double.CreateChecked(vector[i]), Is.EqualTo(expected).Within(tolerance * Math.Max(1, Math.Abs(expected))), $"{typeof(TOp).Name} {path} n={n} [{i}]");
                }
            }
        }
    }

    private static void ColumnSums<T>(GemmPath path)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (int rows in new[] { 0, 1, 3, 130 })
        {
            foreach (int cols in new[] { 1, 2, 3, 5, 8, 17, 33, 64, 100 })
            {
                var g = Random<T>(rows * cols, rows * 31 + cols).Select((v, i) => v * T.CreateTruncating(Math.Pow(10, i % 7 - 3))).ToArray();
                var scalar = Random<T>(cols, cols);
                var vector = (T[])scalar.Clone();
                RowKernels.AddColumnSums<T>(g, rows, cols, scalar, GemmPath.Scalar);
                RowKernels.AddColumnSums<T>(g, rows, cols, vector, path);
                Assert.That(vector, Is.EqualTo(scalar), $"{path} {rows}x{cols}");
            }
        }
    }
}
