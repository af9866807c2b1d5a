using MathNet.Numerics.LinearAlgebra;
using NeuralOde.AutoDiff.Kernels;

namespace NeuralOde.Examples.Examples;

/// <summary>
/// ZCA whitening fitted on a training set: x ↦ (x − μ)·W with W = U·diag(1/√(λ + ε))·Uᵀ from the eigendecomposition
/// C = U·diag(λ)·Uᵀ of the training covariance; ε damps the directions that hardly vary.
/// </summary>
internal static class ZcaWhitening
{
    /// <summary>Fits μ and W on <paramref name="train"/> (rows of <paramref name="width"/> values) and applies them to every set, in place.</summary>
    public static void Apply(float[] train, int width, double epsilon, params float[][] sets)
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
        Gemm.MultiplyTN<double>(centred, centred, covariance, width, count, width, accumulate: false);
        for (int i = 0; i < covariance.Length; i++) covariance[i] /= Math.Max(1, count - 1);

        var evd = Matrix<double>.Build.DenseOfRowMajor(width, width, covariance).Evd(Symmetricity.Symmetric);
        var vectors = evd.EigenVectors;
        var scale = evd.EigenValues.Select(v => 1 / Math.Sqrt(Math.Max(v.Real, 0) + epsilon)).ToArray();
        var whitening = vectors * Matrix<double>.Build.DiagonalOfDiagonalArray(scale) * vectors.Transpose();
        var w = new float[width * width];
        for (int r = 0; r < width; r++)
        {
            for (int c = 0; c < width; c++) w[r * width + c] = (float)whitening[r, c];
        }

        foreach (var set in sets)
        {
            int rows = set.Length / width;
            for (int i = 0; i < set.Length; i++) set[i] -= (float)mean[i % width];
            var result = new float[set.Length];
            Gemm.MultiplyNN<float>(set, w, result, rows, width, width, accumulate: false);
            result.CopyTo(set, 0);
        }
    }
}
