using System.Numerics;

namespace NeuralOde.Core.Solvers;

/// <summary>The one finiteness check of a state, used by the loop and by steppers that verify what they produce.</summary>
internal static class FiniteState
{
    public static bool All<T>(ReadOnlySpan<T> values)
        where T : IFloatingPointIeee754<T>
    {
        foreach (T v in values)
        {
            if (!T.IsFinite(v)) return false;
        }
        return true;
    }
}
