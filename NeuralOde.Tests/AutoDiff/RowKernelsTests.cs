using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.AutoDiff.Kernels;
using NUnit.Framework;

namespace NeuralOde.Tests.AutoDiff;

/// <summary>The bias broadcast and its gradient against the row-by-row loops they replace, bit for bit.</summary>
public class RowKernelsTests
{
    private static readonly int[] Rows = [0, 1, 3, 128, 257];
    private static readonly int[] Columns = [1, 2, 7, 33, 64, 100];

    private static T[] Random<T>(int length, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => T.CreateTruncating(random.NextDouble() * 2 - 1)).ToArray();
    }

    [Test]
    public void RepeatRow_WritesTheRowIntoEveryRow_AndNothingBeyond()
    {
        foreach (int rows in Rows)
        {
            foreach (int cols in Columns)
            {
                var row = Random<float>(cols, rows + cols);
                var destination = Enumerable.Repeat(float.NaN, rows * cols + 5).ToArray();
                RowKernels.RepeatRow<float>(row, destination, rows);
                for (int r = 0; r < rows; r++) Assert.That(destination.AsSpan(r * cols, cols).ToArray(), Is.EqualTo(row), $"{rows}x{cols}, row {r}");
                Assert.That(destination.Skip(rows * cols), Is.All.NaN, "elements past the last row are untouched");
            }
        }
    }

    [TestCase(typeof(float))]
    [TestCase(typeof(double))]
    public void AddColumnSums_IsBitwiseTheRowByRowSum(Type type)
    {
        if (type == typeof(float)) Sums<float>();
        else Sums<double>();
    }

    private static void Sums<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (int rows in Rows)
        {
            foreach (int cols in Columns)
            {
                // Values of mixed magnitude, so a different order of additions would change low bits.
                var g = Random<T>(rows * cols, 7 * rows + cols).Select((v, i) => v * T.CreateTruncating(Math.Pow(10, i % 7 - 3))).ToArray();
                var expected = Random<T>(cols, cols);
                var actual = (T[])expected.Clone();
                for (int r = 0; r < rows; r++) TensorPrimitives.Add(expected, g.AsSpan(r * cols, cols), expected);
                RowKernels.AddColumnSums<T>(g, rows, cols, actual);
                Assert.That(actual, Is.EqualTo(expected), $"{rows}x{cols}");
            }
        }
    }
}
