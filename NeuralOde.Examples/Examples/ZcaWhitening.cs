using MathNet.Numerics.LinearAlgebra;
using NeuralOde.AutoDiff.Kernels;

namespace NeuralOde.Examples.Examples;

/// <summary>
/// ZCA whitening fitted on a training set: x ↦ (x − μ)·W with W = U·diag(1/√(λ + ε))·Uᵀ from the eigendecomposition
/// C = U·diag(λ)·Uᵀ of the training covariance; ε damps the directions that hardly vary.
/// </summary>
internal static class ZcaWhitening
{
    // Rows per block of the covariance and of the whitening product, so a Ctrl+C is noticed within a fraction of a second.
    private const int BlockRows = 4096;

    /// <summary>Fits μ and W on <paramref name="train"/> (rows of <paramref name="width"/> values) and applies them to every set, in place.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was signalled (checked between blocks of rows).</exception>
    public static void Apply(float[] train, int width, double epsilon, CancellationToken cancellation, params float[][] sets)
    {
        int count = train.Length / width;
        var mean = new double[width];
        for (int n = 0; n < count; n++)
        {
            for (int p = 0; p < width; p++) mean[p] += train[n * width + p];
        }
        for (int p = 0; p < width; p++) mean[p] /= Math.Max(1, count);

        var centred = new double[train.Length];
        for (int i = 0; i < centred.Length; i++) centred[i] = train[i] - mean[i % width];
        var covariance = new double[width * width];
        for (int start = 0; start < count; start += BlockRows)   // Σ over blocks of rows of Xᵀ·X: the same sum, in pieces
        {
            cancellation.ThrowIfCancellationRequested();
            int rows = Math.Min(BlockRows, count - start);
            var block = centred.AsSpan(start * width, rows * width);
            Gemm.MultiplyTN<double>(block, block, covariance, width, rows, width, accumulate: start > 0);
        }
        cancellation.ThrowIfCancellationRequested();
        for (int i = 0; i < covariance.Length; i++) covariance[i] /= Math.Max(1, count - 1);

        cancellation.ThrowIfCancellationRequested();
        var evd = Matrix<double>.Build.DenseOfRowMajor(width, width, covariance).Evd(Symmetricity.Symmetric);
        var vectors = evd.EigenVectors;
        var scale = evd.EigenValues.Select(v => 1 / Math.Sqrt(Math.Max(v.Real, 0) + epsilon)).ToArray();
        var whitening = vectors * Matrix<double>.Build.DiagonalOfDiagonalArray(scale) * vectors.Transpose();
        var w = new float[width * width];
        for (int r = 0; r < width; r++)
        {
            for (int c = 0; c < width; c++) w[r * width + c] = (float)whitening[r, c];
        }

        cancellation.ThrowIfCancellationRequested();
        foreach (var set in sets)
        {
            int rows = set.Length / width;
            for (int i = 0; i < set.Length; i++) set[i] -= (float)mean[i % width];
            var result = new float[Math.Min(rows, BlockRows) * width];
            for (int start = 0; start < rows; start += BlockRows)
            {
                cancellation.ThrowIfCancellationRequested();
                int block = Math.Min(BlockRows, rows - start);
                var span = set.AsSpan(start * width, block * width);
                Gemm.MultiplyNN<float>(span, w, result.AsSpan(0, block * width), block, width, width, accumulate: false);
                result.AsSpan(0, block * width).CopyTo(span);
            }
        }
    }
}
