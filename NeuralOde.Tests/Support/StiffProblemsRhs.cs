namespace NeuralOde.Tests.Support;

internal static partial class StiffProblems
{
    private static Dictionary<string, Rhs>? rhs;

    /// <summary>The right-hand sides as the tests' <see cref="Support.Rhs"/> (for <see cref="FuncDynamics{T}"/> in float or double).</summary>
    public static Dictionary<string, Rhs> Rhs => rhs ??= Functions.ToDictionary(kv => kv.Key, kv => new Rhs(kv.Value));
}
