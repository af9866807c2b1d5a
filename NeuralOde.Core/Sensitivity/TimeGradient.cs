using System.Numerics;

namespace NeuralOde.Core.Sensitivity;

/// <summary>The inner products the strategies' time gradients are made of (dL/dt_i = ⟨∂L/∂y(t_i), f(t_i, y_i)⟩), summed in double.</summary>
internal static class TimeGradient
{
    public static double Dot<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += double.CreateTruncating(a[i]) * double.CreateTruncating(b[i]);
        return sum;
    }
}
