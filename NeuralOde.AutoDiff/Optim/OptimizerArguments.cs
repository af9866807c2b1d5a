namespace NeuralOde.AutoDiff.Optim;

/// <summary>Argument checks shared by the optimizers; each throws <see cref="ArgumentOutOfRangeException"/> naming the argument and value.</summary>
internal static class OptimizerArguments
{
    /// <summary>Finite and at least zero (learning rates, ε, weight decay, momentum).</summary>
    public static double NonNegative(double value, string paramName)
    {
        if (!double.IsFinite(value) || value < 0)
            ThrowHelper.OutOfRange(paramName, value, $"{paramName} must be finite and at least 0, but is {value}.");
        return value;
    }

    /// <summary>In [0, 1) (Adam's β1 and β2).</summary>
    public static double UnitInterval(double value, string paramName)
    {
        if (!(value >= 0 && value < 1))
            ThrowHelper.OutOfRange(paramName, value, $"{paramName} must lie in [0, 1), but is {value}.");
        return value;
    }

    /// <summary>In [0, 1] (RMSprop's α, SGD's dampening).</summary>
    public static double ClosedUnitInterval(double value, string paramName)
    {
        if (!(value >= 0 && value <= 1))
            ThrowHelper.OutOfRange(paramName, value, $"{paramName} must lie in [0, 1], but is {value}.");
        return value;
    }
}
