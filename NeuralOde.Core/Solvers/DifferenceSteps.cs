using System.Numerics;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// The relative steps of difference quotients in the state's type, where truncation and rounding errors balance: √ε for
/// a forward difference (error ~√ε), ∛ε for a central one (error ~ε^(2/3)).
/// </summary>
internal static class DifferenceSteps<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // The unit roundoff of float or double (T.Epsilon is the smallest subnormal, not this).
    private static readonly double Epsilon = typeof(T) == typeof(float) ? Math.Pow(2, -23) : Math.Pow(2, -52);

    /// <summary>√ε of T.</summary>
    public static readonly double Forward = Math.Sqrt(Epsilon);

    /// <summary>∛ε of T.</summary>
    public static readonly double Central = Math.Cbrt(Epsilon);
}
