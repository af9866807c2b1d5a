using System.Numerics;
using NeuralOde.AutoDiff.Kernels;
using NeuralOde.AutoDiff.Threading;
using NeuralOde.Tests.Support;
using NUnit.Framework;

namespace NeuralOde.Tests.AutoDiff;

/// <summary>The SIMD GEMM kernels against <see cref="GemmReference{T}"/>, their threaded split, allocations and argument checks.</summary>
[TestFixture]
internal sealed class GemmTests
{
    private const int OperandSeed = 20261128;
    private const int DestinationSeed = 4242;

    /// <summary>(m, k, n): unit, odd, remainder-heavy, the MLP shapes, a tall-thin batch, k past one depth block, and k = 0.</summary>
    private static readonly (int M, int K, int N)[] Shapes =
    [
        (1, 1, 1), (7, 13, 5), (33, 65, 17), (3, 2, 64), (512, 64, 64), (4096, 3, 64), (65, 513, 33), (9, 0, 11), (64, 130, 2),
    ];

    private static readonly Type[] ElementTypes = [typeof(float), typeof(double)];

    private static IEnumerable<TestCaseData> ShapeCases() =>
        from layout in Enum.GetValues<GemmLayout>()
        from path in KernelWidths.Accelerated
        from type in ElementTypes
        from shape in Shapes
        from accumulate in new[] { false, true }
        select new TestCaseData(layout, path, type, shape.M, shape.K, shape.N, accumulate)
            .SetArgDisplayNames($"{layout}", $"{path}", type.Name, $"{shape.M}x{shape.K}x{shape.N}", accumulate ? "accumulate" : "overwrite");

    private WorkerPool fourParticipants = null!;

    [OneTimeSetUp]
    public void CreatePool() => fourParticipants = new WorkerPool(3);

    [OneTimeTearDown]
    public void DisposePool() => fourParticipants.Dispose();

    [TestCaseSource(nameof(ShapeCases))]
    public void EveryLayoutAndWidth_MatchesReferenceWithinRoundingBound(GemmLayout layout, GemmPath path, Type type, int m, int k, int n, bool accumulate)
    {
        if (type == typeof(float)) MatchesReference<float>(layout, path, m, k, n, accumulate, pool: null);
        else MatchesReference<double>(layout, path, m, k, n, accumulate, pool: null);
    }

    [Test]
    public void PublicEntryPoints_MatchReference_IncludingThreadedShapes(
        [Values] GemmLayout layout, [Values(typeof(float), typeof(double))] Type type, [Values] bool accumulate)
    {
        foreach (var (m, k, n) in Shapes)
        {
            if (type == typeof(float)) MatchesReference<float>(layout, path: null, m, k, n, accumulate, WorkerPool.Shared);
            else MatchesReference<double>(layout, path: null, m, k, n, accumulate, WorkerPool.Shared);
        }
    }

    [Test]
    public void ThreadedSplit_IsBitwiseIdenticalToSingleThreadedRun(
        [Values] GemmLayout layout, [ValueSource(typeof(KernelWidths), nameof(KernelWidths.Accelerated))] GemmPath path, [Values(typeof(float), typeof(double))] Type type)
    {
        foreach (var (m, k, n) in new[] { (7, 13, 5), (65, 513, 33), (512, 64, 64), (97, 130, 70) })
        {
            if (type == typeof(float)) SplitIsBitwiseIdentical<float>(layout, path, m, k, n);
            else SplitIsBitwiseIdentical<double>(layout, path, m, k, n);
        }
    }

    /// <summary>The (layout, width, type) combinations that run a C of ≤ 4 columns as Cᵀ on this machine.</summary>
    private static IEnumerable<TestCaseData> NarrowCases() =>
        from layout in Enum.GetValues<GemmLayout>()
        from path in KernelWidths.AcceleratedVectors
        from type in ElementTypes
        where type == typeof(float) ? Gemm.IsNarrow<float>(layout, path, 64, 2) : Gemm.IsNarrow<double>(layout, path, 64, 2)
        from accumulate in new[] { false, true }
        select new TestCaseData(layout, path, type, accumulate).SetArgDisplayNames($"{layout}", $"{path}", type.Name, accumulate ? "accumulate" : "overwrite");

    [Test]
    public void NarrowProducts_TakeTheTransposedPath_ForTNAlways_AndForNTAndNNWithAvx512()
    {
        foreach (var path in new[] { GemmPath.Vector512, GemmPath.Vector256 })
        {
            Assert.That(Gemm.IsNarrow<float>(GemmLayout.TN, path, 64, 2) && Gemm.IsNarrow<double>(GemmLayout.TN, path, 64, 3), path.ToString());
        }
        // A 128-bit register holds 4 floats or 2 doubles: narrower than that is narrow.
        Assert.That(Gemm.IsNarrow<float>(GemmLayout.TN, GemmPath.Vector128, 64, 3) && Gemm.IsNarrow<double>(GemmLayout.TN, GemmPath.Vector128, 64, 1), "Vector128");
        Assert.That(Gemm.IsNarrow<double>(GemmLayout.TN, GemmPath.Vector128, 64, 2), Is.False, "two doubles fill a 128-bit register");
        bool avx512 = System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
        Assert.That(Gemm.IsNarrow<float>(GemmLayout.NT, GemmPath.Vector512, 128, 2), Is.EqualTo(avx512));
        Assert.That(Gemm.IsNarrow<float>(GemmLayout.NN, GemmPath.Vector512, 128, 2), Is.EqualTo(avx512));
        Assert.That(Gemm.IsNarrow<float>(GemmLayout.TN, GemmPath.Vector512, 64, 5), Is.False, "five columns are not narrow");
        Assert.That(Gemm.IsNarrow<float>(GemmLayout.TN, GemmPath.Vector512, 31, 2), Is.False, "a C of 31 rows does not fill two registers");
    }

    [TestCaseSource(nameof(NarrowCases))]
    public void NarrowTransposedProduct_IsBitwiseTheDirectBlockedOne(GemmLayout layout, GemmPath path, Type type, bool accumulate)
    {
        // k = 300 and 512 cross depth blocks; 40 and 100 rows leave partial 16×16 transpose blocks and partial panels.
        foreach (var (m, k, n) in new[] { (64, 128, 2), (64, 512, 3), (100, 7, 1), (40, 300, 3), (128, 64, 2) })
        {
            if (type == typeof(float)) NarrowIsDirect<float>(layout, path, m, k, n, accumulate);
            else NarrowIsDirect<double>(layout, path, m, k, n, accumulate);
        }
    }

    [Test]
    public void ShallowAndFewRowProducts_AreEachElementsFmaChain_Bitwise(
        [Values] GemmLayout layout, [ValueSource(typeof(KernelWidths), nameof(KernelWidths.Accelerated))] GemmPath path,
        [Values(typeof(float), typeof(double))] Type type, [Values] bool accumulate)
    {
        // The claim behind every bitwise guarantee (widths, row splits, narrow transposes): C[i, j] is
        // fma(A[i, p], B[p, j], c) for p ascending from C or +0, checked here against that chain written out. Shallow
        // products: the depths of a first layer (2, 3 inputs) and a 2-output layer's input gradient, with partial tiles
        // (7, 13, 37 rows; 40 columns) and signed zeros. Few-row products (at most one micro-tile of rows, where a
        // row-major B is read in place, unpacked): a 2-output layer's weight gradient gᵀ·x, the narrow transpose of a
        // 3-input layer's, depths past one depth block (300), and widths that are and are not whole registers (C of one or two
        // rows runs in panels of four registers, so 75 and 100 columns end in a partial panel).
        foreach (var (m, k, n) in new[]
        {
            (256, 2, 64), (512, 3, 64), (7, 1, 16), (37, 4, 128), (13, 2, 40), (33, 5, 64),
            (2, 512, 64), (3, 300, 64), (1, 7, 16), (6, 300, 40), (5, 129, 20), (2, 256, 128), (2, 130, 75), (1, 3, 100),
        })
        {
            if (type == typeof(float)) ShallowIsTheChain<float>(layout, path, m, k, n, accumulate);
            else ShallowIsTheChain<double>(layout, path, m, k, n, accumulate);
        }
    }

    /// <summary>Gemm.Multiply bitwise against each element's fma chain written out; A is m×k (k×m for TN), B k×n (n×k for NT).</summary>
    private static void ShallowIsTheChain<T>(GemmLayout layout, GemmPath path, int m, int k, int n, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] a = Random<T>(m * k, OperandSeed + k);
        T[] b = Random<T>(k * n, OperandSeed + n);
        // Signed zeros: a product −0 must start from +0 as the blocked kernel's accumulators do.
        a[0] = -T.Zero;
        b[1] = T.Zero;
        T[] c = Random<T>(m * n, OperandSeed - 1);
        T[] expected = (T[])c.Clone();
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                T sum = accumulate ? expected[i * n + j] : T.Zero;
                for (int p = 0; p < k; p++)
                    sum = T.FusedMultiplyAdd(layout == GemmLayout.TN ? a[p * m + i] : a[i * k + p], layout == GemmLayout.NT ? b[j * k + p] : b[p * n + j], sum);
                expected[i * n + j] = sum;
            }
        }
        Gemm.Multiply(layout, path, a, b, c, m, k, n, accumulate, pool: null);
        for (int e = 0; e < c.Length; e++)
        {
            long got = BitConverter.DoubleToInt64Bits(double.CreateTruncating(c[e])), want = BitConverter.DoubleToInt64Bits(double.CreateTruncating(expected[e]));
            Assert.That(got, Is.EqualTo(want), $"{layout} {path} {m}x{k}x{n} accumulate={accumulate}: element {e} ({c[e]} against {expected[e]})");
        }
    }

    [Test]
    public void AllWidths_AreBitwiseIdentical_BecauseEachElementIsTheSameFmaChain(
        [Values] GemmLayout layout, [Values(typeof(float), typeof(double))] Type type)
    {
        if (type == typeof(float)) WidthsAgree<float>(layout, 65, 513, 33);
        else WidthsAgree<double>(layout, 65, 513, 33);
    }

    [Test]
    public void WarmCalls_AllocateNothing_OnCallerOrWorkers([Values] GemmLayout layout, [Values(typeof(float), typeof(double))] Type type)
    {
        if (type == typeof(float)) AllocatesNothing<float>(layout);
        else AllocatesNothing<double>(layout);
    }

    [Test]
    public void ProductsCalledFromInsidePoolParts_CompleteAndMatchSingleThreadedRun()
    {
        // Batched solves run one solve per part on WorkerPool.Shared, and each solve's layers call Gemm, which would
        // itself split over the same pool. The nested run must neither deadlock nor return before its parts finish.
        const int m = 512, k = 64, n = 64, parts = 4;
        float[] a = Random<float>(m * k, OperandSeed);
        float[] b = Random<float>(n * k, OperandSeed + 1);
        float[] expected = new float[m * n];
        Gemm.Multiply(GemmLayout.NT, Gemm.DefaultPath, a, b, expected, m, k, n, false, pool: null);
        var work = new NestedProducts(a, b, m, k, n, parts);

        var runner = new Thread(() => WorkerPool.Shared.Run(work, parts)) { IsBackground = true };
        runner.Start();
        Assert.That(runner.Join(TimeSpan.FromSeconds(30)), Is.True, "the outer run did not finish: nested runs deadlocked");
        for (int part = 0; part < parts; part++) Assert.That(work.Results[part], Is.EqualTo(expected), $"part {part}");
    }

    private sealed class NestedProducts(float[] a, float[] b, int m, int k, int n, int parts) : IParallelWork
    {
        public float[][] Results { get; } = Enumerable.Range(0, parts).Select(_ => new float[m * n]).ToArray();

        public void Execute(int part, int partCount) => Gemm.MultiplyNT<float>(a, b, Results[part], m, k, n, false);
    }

    [TestCase("a")]
    [TestCase("b")]
    [TestCase("c")]
    public void TooShortSpan_ThrowsArgumentExceptionNamingIt(string argument)
    {
        foreach (GemmLayout layout in Enum.GetValues<GemmLayout>())
        {
            const int m = 4, k = 3, n = 5;
            var a = new float[m * k - (argument == "a" ? 1 : 0)];
            var b = new float[k * n - (argument == "b" ? 1 : 0)];
            var c = new float[m * n - (argument == "c" ? 1 : 0)];
            int needed = argument switch { "a" => m * k, "b" => k * n, _ => m * n };
            Assert.That(() => Public(layout, a, b, c, m, k, n, false),
                Throws.InstanceOf<ArgumentException>().With.Property(nameof(ArgumentException.ParamName)).EqualTo(argument)
                    .And.Message.Contains($"has {needed - 1} elements").And.Message.Contains($"needs {needed}"));
        }
    }

    [TestCase("m")]
    [TestCase("k")]
    [TestCase("n")]
    public void NegativeSize_ThrowsArgumentExceptionNamingIt(string argument)
    {
        foreach (GemmLayout layout in Enum.GetValues<GemmLayout>())
        {
            var buffer = new double[64];
            var c = new double[64];
            int m = argument == "m" ? -1 : 2, k = argument == "k" ? -3 : 2, n = argument == "n" ? -2 : 2;
            Assert.That(() => Public(layout, buffer, buffer, c, m, k, n, false),
                Throws.InstanceOf<ArgumentException>().With.Property(nameof(ArgumentException.ParamName)).EqualTo(argument));
        }
    }

    [Test]
    public void DestinationOverlappingAnInput_ThrowsArgumentExceptionNamingC()
    {
        var buffer = new float[32];
        Assert.That(() => Gemm.MultiplyNN<float>(buffer.AsSpan(0, 4), buffer.AsSpan(4, 4), buffer.AsSpan(2, 4), 2, 2, 2, false),
            Throws.InstanceOf<ArgumentException>().With.Property(nameof(ArgumentException.ParamName)).EqualTo("c"));
    }

    [Test]
    public void ZeroDepth_ClearsOrKeepsC_AndIgnoresEmptyOperands([Values] GemmLayout layout, [Values] bool accumulate)
    {
        var c = new double[] { 1, 2, 3, 4, 5, 6 };
        Public(layout, [], [], c, 2, 0, 3, accumulate);
        Assert.That(c, Is.EqualTo(accumulate ? new double[] { 1, 2, 3, 4, 5, 6 } : new double[6]));
    }

    private static void Public<T>(GemmLayout layout, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (layout)
        {
            case GemmLayout.NN: Gemm.MultiplyNN(a, b, c, m, k, n, accumulate); break;
            case GemmLayout.NT: Gemm.MultiplyNT(a, b, c, m, k, n, accumulate); break;
            default: Gemm.MultiplyTN(a, b, c, m, k, n, accumulate); break;
        }
    }

    private static void Reference<T>(GemmLayout layout, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (layout)
        {
            case GemmLayout.NN: GemmReference<T>.MultiplyNN(a, b, c, m, k, n, accumulate); break;
            case GemmLayout.NT: GemmReference<T>.MultiplyNT(a, b, c, m, k, n, accumulate); break;
            default: GemmReference<T>.MultiplyTN(a, b, c, m, k, n, accumulate); break;
        }
    }

    private static T[] Random<T>(int length, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        var values = new T[length];
        for (int i = 0; i < length; i++) values[i] = T.CreateChecked(random.NextDouble() * 2 - 1);
        return values;
    }

    private static T[] Abs<T>(T[] values)
        where T : unmanaged, IFloatingPointIeee754<T> => values.Select(T.Abs).ToArray();

    /// <summary>
    /// Checks |C − C_ref| ≤ 2·γ(k+1)·(|C₀| + |A|·|B|) + u·|C_ref| elementwise, with u the unit roundoff of T and
    /// γ(j) = j·u / (1 − j·u): the classical bound for a fused dot product of length k plus the initial C, doubled to
    /// cover the reference's own rounding in double, plus one rounding of the reference to T. It cannot fail by chance.
    /// </summary>
    private static void MatchesReference<T>(GemmLayout layout, GemmPath? path, int m, int k, int n, bool accumulate, WorkerPool? pool)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] a = Random<T>(m * k, OperandSeed);
        T[] b = Random<T>(k * n, OperandSeed + 1);
        T[] c0 = Random<T>(m * n, DestinationSeed);
        T[] actual = (T[])c0.Clone();
        T[] expected = (T[])c0.Clone();
        T[] magnitude = Abs(c0);

        if (path is { } explicitPath) Gemm.Multiply(layout, explicitPath, a, b, actual, m, k, n, accumulate, pool);
        else Public<T>(layout, a, b, actual, m, k, n, accumulate);
        Reference<T>(layout, a, b, expected, m, k, n, accumulate);
        Reference<T>(layout, Abs(a), Abs(b), magnitude, m, k, n, accumulate);

        double u = double.CreateChecked(T.Epsilon == T.CreateChecked(float.Epsilon) ? T.CreateChecked(Math.Pow(2, -24)) : T.CreateChecked(Math.Pow(2, -53)));
        double gamma = (k + 1) * u / (1 - (k + 1) * u);
        for (int i = 0; i < m * n; i++)
        {
            double error = Math.Abs(double.CreateChecked(actual[i]) - double.CreateChecked(expected[i]));
            double bound = 2 * gamma * double.CreateChecked(magnitude[i]) + u * Math.Abs(double.CreateChecked(expected[i]));
            if (!(error <= bound))
            {
                Assert.Fail($"{layout} {path?.ToString() ?? "public"} {typeof(T).Name} {m}×{k}×{n} accumulate={accumulate}: " +
                    $"C[{i / n}, {i % n}] = {actual[i]}, reference {expected[i]}, error {error:E3} > bound {bound:E3}.");
            }
        }
    }

    private void SplitIsBitwiseIdentical<T>(GemmLayout layout, GemmPath path, int m, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] a = Random<T>(m * k, OperandSeed);
        T[] b = Random<T>(k * n, OperandSeed + 1);
        foreach (bool accumulate in new[] { false, true })
        {
            T[] single = Random<T>(m * n, DestinationSeed);
            T[] split = (T[])single.Clone();
            Gemm.Multiply(layout, path, a, b, single, m, k, n, accumulate, pool: null);
            Gemm.Multiply(layout, path, a, b, split, m, k, n, accumulate, fourParticipants, parallelThreshold: 0);
            Assert.That(split, Is.EqualTo(single), $"{layout} {path} {typeof(T).Name} {m}×{k}×{n} accumulate={accumulate}");
        }
    }

    private static void NarrowIsDirect<T>(GemmLayout layout, GemmPath path, int m, int k, int n, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.That(Gemm.IsNarrow<T>(layout, path, m, n), $"{m}x{k}x{n} takes the transposed path");
        T[] a = Random<T>(m * k, OperandSeed);
        T[] b = Random<T>(k * n, OperandSeed + 1);
        T[] viaEntryPoint = Random<T>(m * n, DestinationSeed);
        T[] direct = (T[])viaEntryPoint.Clone();
        Gemm.Multiply(layout, path, a, b, viaEntryPoint, m, k, n, accumulate, pool: null);
        Gemm.RunRows(layout, path, ref a[0], ref b[0], ref direct[0], m, k, n, 0, m, accumulate);
        Assert.That(viaEntryPoint, Is.EqualTo(direct), $"{layout} {m}x{k}x{n}");
    }

    private static void WidthsAgree<T>(GemmLayout layout, int m, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] a = Random<T>(m * k, OperandSeed);
        T[] b = Random<T>(k * n, OperandSeed + 1);
        T[] scalar = Random<T>(m * n, DestinationSeed);
        T[] initial = (T[])scalar.Clone();
        Gemm.Multiply(layout, GemmPath.Scalar, a, b, scalar, m, k, n, true, pool: null);
        // Every width, accelerated or not (an unaccelerated one runs in software, slowly but with the same arithmetic).
        foreach (var path in new[] { GemmPath.Vector512, GemmPath.Vector256, GemmPath.Vector128 })
        {
            T[] vector = (T[])initial.Clone();
            Gemm.Multiply(layout, path, a, b, vector, m, k, n, true, pool: null);
            Assert.That(vector, Is.EqualTo(scalar), path.ToString());
        }
    }

    private void AllocatesNothing<T>(GemmLayout layout)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Small (caller only), large through the public entry point (split over WorkerPool.Shared), forced split on a private pool.
        T[] small = Random<T>(33 * 65, OperandSeed);
        T[] smallC = new T[33 * 33];
        T[] large = Random<T>(512 * 512, OperandSeed);
        T[] largeC = new T[512 * 512];
        Assert.That((long)512 * 512 * 512 * System.Runtime.CompilerServices.Unsafe.SizeOf<T>(), Is.GreaterThanOrEqualTo(Gemm.ParallelThreshold), "the large product must take the threaded path");

        void Calls()
        {
            Gemm.Multiply(layout, Gemm.DefaultPath, small, small, smallC, 33, 65, 33, false, WorkerPool.Shared);
            Public<T>(layout, large, large, largeC, 512, 512, 512, true);
            Gemm.Multiply(layout, Gemm.DefaultPath, small, small, smallC, 33, 65, 33, true, fourParticipants, parallelThreshold: 0);
        }

        Calls();
        Calls();
        long callerBytes = long.MaxValue, processBytes = long.MaxValue;
        // Both counters take the quietest of many short windows; the process-wide counter also sees the test runner's own
        // threads (about 2 KB a second when idle), so it gets many short attempts: a kernel that allocated would show on every one.
        for (int attempt = 0; attempt < 40 && (processBytes != 0 || callerBytes != 0); attempt++)
        {
            long thread0 = GC.GetAllocatedBytesForCurrentThread();
            long total0 = GC.GetTotalAllocatedBytes(precise: true);
            Calls();
            long total1 = GC.GetTotalAllocatedBytes(precise: true);
            long thread1 = GC.GetAllocatedBytesForCurrentThread();
            callerBytes = Math.Min(callerBytes, thread1 - thread0);
            processBytes = Math.Min(processBytes, total1 - total0);
        }

        Assert.That(callerBytes, Is.Zero, "bytes allocated on the calling thread");
        Assert.That(processBytes, Is.Zero, "bytes allocated in the process (workers included)");
    }
}
