using System.Runtime.Intrinsics.X86;
using NeuralOde.AutoDiff.Kernels;
using NUnit.Framework;

namespace NeuralOde.Tests.AutoDiff;

/// <summary>The register transposes that pack transposed GEMM operands, against the index definition.</summary>
internal sealed class GemmTransposeTests
{
    [TestCase(8)]
    [TestCase(16)]
    public void RegisterBlock_IsTheTranspose_AndWritesNothingElse(int size)
    {
        if (size == 8 && !Avx.IsSupported) Assert.Ignore("needs AVX");
        if (size == 16 && !Avx512F.IsSupported) Assert.Ignore("needs AVX-512F");
        // Strides wider than the block, so a read or write past a row or column shows up.
        const int sourceStride = 37, destinationStride = 29;
        float[] source = Enumerable.Range(0, sourceStride * (size + 1)).Select(i => (float)i).ToArray();
        float[] destination = Enumerable.Repeat(-1f, destinationStride * (size + 1)).ToArray();
        ref float from = ref source[sourceStride + 3];
        ref float to = ref destination[destinationStride + 2];
        if (size == 8) GemmTranspose.Block8(ref from, sourceStride, ref to, destinationStride);
        else GemmTranspose.Block16(ref from, sourceStride, ref to, destinationStride);
        for (int row = 0; row <= size; row++)
        {
            for (int column = 0; column < destinationStride; column++)
            {
                int q = row - 1, r = column - 2;
                bool inside = q >= 0 && q < size && r >= 0 && r < size;
                float expected = inside ? source[sourceStride + 3 + r * sourceStride + q] : -1f;
                Assert.That(destination[row * destinationStride + column], Is.EqualTo(expected), $"destination row {q}, column {r}");
            }
        }
    }
}
