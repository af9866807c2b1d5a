namespace NeuralOde.AutoDiff;

/// <summary>The shape of a tape value: a row-major matrix of <see cref="Rows"/> × <see cref="Cols"/> elements.</summary>
/// <param name="Rows">The number of rows (for a batch, the batch size).</param>
/// <param name="Cols">The number of columns (for a batch, the width of one sample).</param>
public readonly record struct Shape(int Rows, int Cols)
{
    /// <summary>The number of elements, <see cref="Rows"/> · <see cref="Cols"/>.</summary>
    public int Length => Rows * Cols;

    /// <summary>A 1 × 1 shape, the shape of a scalar.</summary>
    public static Shape Scalar => new(1, 1);

    /// <summary>Creates a shape, checking that both sizes are non-negative and the element count fits an <see cref="int"/>.</summary>
    /// <param name="rows">The number of rows.</param>
    /// <param name="cols">The number of columns.</param>
    /// <param name="paramName">The argument the sizes came from, for the exception message.</param>
    /// <returns>The shape.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative or the product overflows.</exception>
    public static Shape Checked(int rows, int cols, string paramName = "shape")
    {
        if (rows < 0 || cols < 0 || (long)rows * cols > int.MaxValue)
            throw new ArgumentOutOfRangeException(paramName, $"Shape {rows}×{cols} is not valid: sizes must be non-negative and their product at most {int.MaxValue}.");
        return new Shape(rows, cols);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Rows}×{Cols}";
}
