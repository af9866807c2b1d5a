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

/// <summary>The register width a product runs with; each is callable on any machine (tests cover all three here).</summary>
internal enum GemmPath
{
    /// <summary>Vector512 with 6×4-register tiles.</summary>
    Vector512,

    /// <summary>Vector256 with 6×2-register tiles.</summary>
    Vector256,

    /// <summary>Scalar fused multiply–adds with 4×2 tiles.</summary>
    Scalar,
}
