namespace NeuralOde.AutoDiff.Kernels;

/// <summary>Which operands of a product are read transposed; C is always row-major m×n.</summary>
internal enum GemmLayout
{
    /// <summary>C = A·B with A stored m×k and B stored k×n.</summary>
    NN,

    /// <summary>C = A·Bᵀ with A stored m×k and B stored n×k.</summary>
    NT,

    /// <summary>C = Aᵀ·B with A stored k×m and B stored k×n.</summary>
    TN,
}

/// <summary>
/// The register width a kernel runs with (the GEMM, the element-wise driver, the column sums); each is callable on any
/// machine, and the tests run every width the machine accelerates.
/// </summary>
internal enum GemmPath
{
    /// <summary>Vector512 with 6×4-register tiles.</summary>
    Vector512,

    /// <summary>Vector256 with 6×2-register tiles.</summary>
    Vector256,

    /// <summary>Vector128 (SSE/AVX on x64, NEON on ARM64) with 6×4-register tiles where 32 registers exist (ARM64, AVX-512), else 6×2.</summary>
    Vector128,

    /// <summary>Scalar fused multiply–adds with 4×2 tiles.</summary>
    Scalar,
}
