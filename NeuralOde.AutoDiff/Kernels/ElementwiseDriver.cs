using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralOde.AutoDiff.Kernels;

/// <summary>An elementwise function of one argument with scalar, Vector128, Vector256 and Vector512 forms.</summary>
internal interface IUnaryOperator<T>
    where T : unmanaged
{
    static abstract T Invoke(T x);
    static abstract Vector128<T> Invoke(Vector128<T> x);
    static abstract Vector256<T> Invoke(Vector256<T> x);
    static abstract Vector512<T> Invoke(Vector512<T> x);
}

/// <summary>An elementwise function of two arguments with scalar, Vector128, Vector256 and Vector512 forms.</summary>
internal interface IBinaryOperator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract T Invoke(T a, T b);
    static abstract Vector128<T> Invoke(Vector128<T> a, Vector128<T> b);
    static abstract Vector256<T> Invoke(Vector256<T> a, Vector256<T> b);
    static abstract Vector512<T> Invoke(Vector512<T> a, Vector512<T> b);
}

/// <summary>g · σ'(y): the backward of y = σ(x).</summary>
internal readonly struct GradientTimesDerivative<T, TAct> : IBinaryOperator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TAct : struct, IActivationDerivative<T>
{
    public static T Invoke(T g, T y) => g * TAct.Derivative(y);
    public static Vector128<T> Invoke(Vector128<T> g, Vector128<T> y) => g * TAct.Derivative(y);
    public static Vector256<T> Invoke(Vector256<T> g, Vector256<T> y) => g * TAct.Derivative(y);
    public static Vector512<T> Invoke(Vector512<T> g, Vector512<T> y) => g * TAct.Derivative(y);
}

/// <summary>g · dσ'/dy (y): the backward, with respect to y, of a node holding σ'(x) written from y.</summary>
internal readonly struct GradientTimesSecondDerivative<T, TAct> : IBinaryOperator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TAct : struct, IActivationDerivative<T>
{
    public static T Invoke(T g, T y) => g * TAct.SecondDerivative(y);
    public static Vector128<T> Invoke(Vector128<T> g, Vector128<T> y) => g * TAct.SecondDerivative(y);
    public static Vector256<T> Invoke(Vector256<T> g, Vector256<T> y) => g * TAct.SecondDerivative(y);
    public static Vector512<T> Invoke(Vector512<T> g, Vector512<T> y) => g * TAct.SecondDerivative(y);
}

/// <summary>σ'(y), ignoring the first argument.</summary>
internal readonly struct DerivativeOf<T, TAct> : IBinaryOperator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TAct : struct, IActivationDerivative<T>
{
    public static T Invoke(T unused, T y) => TAct.Derivative(y);
    public static Vector128<T> Invoke(Vector128<T> unused, Vector128<T> y) => TAct.Derivative(y);
    public static Vector256<T> Invoke(Vector256<T> unused, Vector256<T> y) => TAct.Derivative(y);
    public static Vector512<T> Invoke(Vector512<T> unused, Vector512<T> y) => TAct.Derivative(y);
}

/// <summary>
/// The one loop for what TensorPrimitives lacks (activation derivatives written from the output, a float tanh that is
/// the same at every width): a Vector512 body
/// where accelerated, else Vector256, else Vector128, then a scalar tail. The operator is a struct type argument, so
/// there is no delegate or virtual call per element.
/// </summary>
/// <remarks>
/// Each lane computes the operator's own formula, so for the arithmetic-only operators every width gives the scalar
/// result bit for bit; an operator that calls a vector math function (softplus's exp) may differ from the scalar tail
/// in the last bit, so which elements fall in the tail (length mod the width) can change low bits across widths.
/// </remarks>
internal static class ElementwiseDriver
{
    /// <summary>destination[i] = (accumulate ? destination[i] : 0) + TOp(a[i], b[i]), on the machine's widest accelerated width.</summary>
    public static void Apply<T, TOp>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> destination, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IBinaryOperator<T> =>
        Apply<T, TOp>(a, b, destination, accumulate, Gemm.DefaultPath);

    /// <summary>As the default overload with an explicit width (for tests; unaccelerated widths run in software).</summary>
    public static void Apply<T, TOp>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> destination, bool accumulate, GemmPath path)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IBinaryOperator<T>
    {
        int n = destination.Length;
        if (a.Length < n) ThrowTooShort(nameof(a), a.Length, n);
        if (b.Length < n) ThrowTooShort(nameof(b), b.Length, n);
        ref T ar = ref MemoryMarshal.GetReference(a);
        ref T br = ref MemoryMarshal.GetReference(b);
        ref T d = ref MemoryMarshal.GetReference(destination);
        int i = 0;
        if (path == GemmPath.Vector512 && Vector512<T>.IsSupported)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var v = TOp.Invoke(Vector512.LoadUnsafe(ref ar, (nuint)i), Vector512.LoadUnsafe(ref br, (nuint)i));
                if (accumulate) v += Vector512.LoadUnsafe(ref d, (nuint)i);
                v.StoreUnsafe(ref d, (nuint)i);
            }
        }
        else if (path == GemmPath.Vector256 && Vector256<T>.IsSupported)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = TOp.Invoke(Vector256.LoadUnsafe(ref ar, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i));
                if (accumulate) v += Vector256.LoadUnsafe(ref d, (nuint)i);
                v.StoreUnsafe(ref d, (nuint)i);
            }
        }
        else if (path == GemmPath.Vector128 && Vector128<T>.IsSupported)
        {
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
            {
                var v = TOp.Invoke(Vector128.LoadUnsafe(ref ar, (nuint)i), Vector128.LoadUnsafe(ref br, (nuint)i));
                if (accumulate) v += Vector128.LoadUnsafe(ref d, (nuint)i);
                v.StoreUnsafe(ref d, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            T v = TOp.Invoke(Unsafe.Add(ref ar, i), Unsafe.Add(ref br, i));
            Unsafe.Add(ref d, i) = accumulate ? Unsafe.Add(ref d, i) + v : v;
        }
    }

    /// <summary>destination[i] = TOp(x[i]) on the machine's widest accelerated width; <paramref name="destination"/> may be <paramref name="x"/>.</summary>
    public static void Apply<T, TOp>(ReadOnlySpan<T> x, Span<T> destination)
        where T : unmanaged
        where TOp : struct, IUnaryOperator<T> =>
        Apply<T, TOp>(x, destination, Gemm.DefaultPath);

    /// <summary>As the default overload with an explicit width (for tests; unaccelerated widths run in software).</summary>
    public static void Apply<T, TOp>(ReadOnlySpan<T> x, Span<T> destination, GemmPath path)
        where T : unmanaged
        where TOp : struct, IUnaryOperator<T>
    {
        int n = destination.Length;
        if (x.Length < n) ThrowTooShort(nameof(x), x.Length, n);
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T d = ref MemoryMarshal.GetReference(destination);
        int i = 0;
        if (path == GemmPath.Vector512 && Vector512<T>.IsSupported)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                TOp.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        }
        else if (path == GemmPath.Vector256 && Vector256<T>.IsSupported)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                TOp.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        }
        else if (path == GemmPath.Vector128 && Vector128<T>.IsSupported)
        {
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                TOp.Invoke(Vector128.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref d, i) = TOp.Invoke(Unsafe.Add(ref xr, i));
    }

    [DoesNotReturn]
    private static void ThrowTooShort(string name, int length, int needed) =>
        throw new ArgumentException($"Span {name} has {length} elements, but the destination needs {needed}.", name);
}
