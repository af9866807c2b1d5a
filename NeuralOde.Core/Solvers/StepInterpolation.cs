using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralOde.Core.Solvers;

/// <summary>
/// The interpolation inside one step, with its transpose beside it: cubic Hermite through (y0, f0) and (y1, f1), and
/// a tableau's own continuous extension y0 + h·Σ b_i(θ)·k_i. The step loop, <see cref="DenseOutput.DenseInterpolant{T}"/> and
/// the gradients of interpolated outputs all use these, so an output and its cotangent see the same formula.
/// </summary>
internal static class StepInterpolation
{
    /// <summary>The cubic Hermite basis at θ for a step of size h: y(θ) = h00·y0 + h10·f0 + h01·y1 + h11·f1.</summary>
    public static (double H00, double H10, double H01, double H11) HermiteWeights(double h, double theta)
    {
        double t2 = theta * theta, t3 = t2 * theta;
        return (2 * t3 - 3 * t2 + 1, (t3 - 2 * t2 + theta) * h, -2 * t3 + 3 * t2, (t3 - t2) * h);
    }

    /// <summary>destination = h00·y0 + h10·f0 + h01·y1 + h11·f1 at θ.</summary>
    public static void Hermite<T>(ReadOnlySpan<T> y0, ReadOnlySpan<T> f0, ReadOnlySpan<T> y1, ReadOnlySpan<T> f1, double h, double theta, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (w00, w10, w01, w11) = HermiteWeights(h, theta);
        T h00 = T.CreateTruncating(w00), h10 = T.CreateTruncating(w10), h01 = T.CreateTruncating(w01), h11 = T.CreateTruncating(w11);
        for (int i = 0; i < destination.Length; i++) destination[i] = h00 * y0[i] + h10 * f0[i] + h01 * y1[i] + h11 * f1[i];
    }

    /// <summary>The transpose of <see cref="Hermite{T}"/>: adds each basis weight times the output's cotangent g to ȳ0, f̄0, ȳ1 and f̄1.</summary>
    public static void HermiteTranspose<T>(ReadOnlySpan<T> g, double h, double theta, Span<T> y0Bar, Span<T> f0Bar, Span<T> y1Bar, Span<T> f1Bar)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (w00, w10, w01, w11) = HermiteWeights(h, theta);
        AddScaled(g, w00, y0Bar);
        AddScaled(g, w10, f0Bar);
        AddScaled(g, w01, y1Bar);
        AddScaled(g, w11, f1Bar);
    }

    /// <summary>
    /// destination = start + Σ_{j&lt;count} c_j·k_j over stages stored contiguously (k_j at j·n), zero coefficients
    /// skipped: the one stage combination of the Runge–Kutta engine and of its continuous extension.
    /// </summary>
    public static void Combine<T>(ReadOnlySpan<T> start, ReadOnlySpan<T> stages, ReadOnlySpan<T> coefficients, int count, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = destination.Length;
        if (n <= ScalarLoopThreshold)
        {
            for (int d = 0; d < n; d++)
            {
                T acc = start[d];
                for (int j = 0; j < count; j++)
                {
                    T cj = coefficients[j];
                    if (cj != T.Zero) acc += cj * stages[j * n + d];
                }
                destination[d] = acc;
            }
            return;
        }

        if (!start.Overlaps(destination)) start.CopyTo(destination);
        for (int j = 0; j < count; j++)
        {
            T cj = coefficients[j];
            if (cj != T.Zero) TensorPrimitives.MultiplyAdd(stages.Slice(j * n, n), cj, destination, destination);
        }
    }

    /// <summary>The tableau's continuous extension's transpose: ȳ0 += g and k̄_i += (h·b_i(θ))·g for the weights b_i(θ) in <paramref name="weights"/>.</summary>
    public static void TableauTranspose<T>(ReadOnlySpan<T> g, double h, ReadOnlySpan<double> weights, Span<T> y0Bar, Span<T> stageBars)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = g.Length;
        TensorPrimitives.Add(y0Bar, g, y0Bar);
        for (int i = 0; i < weights.Length; i++) AddScaled(g, h * weights[i], stageBars.Slice(i * n, n));
    }

    /// <summary>destination += T(factor)·g, skipping a factor that rounds to zero.</summary>
    public static void AddScaled<T>(ReadOnlySpan<T> g, double factor, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T c = T.CreateTruncating(factor);
        if (c != T.Zero) TensorPrimitives.MultiplyAdd(g, c, destination, destination);
    }

    /// <summary>Below this length the combination runs as one scalar pass over the elements (fewer passes over memory).</summary>
    private const int ScalarLoopThreshold = 32;
}
