using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralOde.AutoDiff.Kernels;

/// <summary>
/// The derivative of an activation y = σ(x) written in terms of its output y, and that derivative's own derivative
/// with respect to y (needed when a tangent σ'(x)·ẋ is itself differentiated).
/// </summary>
/// <remarks>Scalar, Vector128, Vector256 and Vector512 forms of each, for <see cref="ElementwiseDriver"/>; no delegate per element.</remarks>
internal interface IActivationDerivative<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract T Derivative(T y);
    static abstract Vector128<T> Derivative(Vector128<T> y);
    static abstract Vector256<T> Derivative(Vector256<T> y);
    static abstract Vector512<T> Derivative(Vector512<T> y);
    static abstract T SecondDerivative(T y);
    static abstract Vector128<T> SecondDerivative(Vector128<T> y);
    static abstract Vector256<T> SecondDerivative(Vector256<T> y);
    static abstract Vector512<T> SecondDerivative(Vector512<T> y);
}

/// <summary>tanh: σ'(x) = 1 − y², and d(1 − y²)/dy = −2y.</summary>
internal readonly struct TanhDerivative<T> : IActivationDerivative<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Derivative(T y) => T.One - y * y;
    public static Vector128<T> Derivative(Vector128<T> y) => Vector128<T>.One - y * y;
    public static Vector256<T> Derivative(Vector256<T> y) => Vector256<T>.One - y * y;
    public static Vector512<T> Derivative(Vector512<T> y) => Vector512<T>.One - y * y;
    public static T SecondDerivative(T y) => -(y + y);
    public static Vector128<T> SecondDerivative(Vector128<T> y) => -(y + y);
    public static Vector256<T> SecondDerivative(Vector256<T> y) => -(y + y);
    public static Vector512<T> SecondDerivative(Vector512<T> y) => -(y + y);
}

/// <summary>logistic sigmoid: σ'(x) = y(1 − y), and d(y − y²)/dy = 1 − 2y.</summary>
internal readonly struct SigmoidDerivative<T> : IActivationDerivative<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Derivative(T y) => y * (T.One - y);
    public static Vector128<T> Derivative(Vector128<T> y) => y * (Vector128<T>.One - y);
    public static Vector256<T> Derivative(Vector256<T> y) => y * (Vector256<T>.One - y);
    public static Vector512<T> Derivative(Vector512<T> y) => y * (Vector512<T>.One - y);
    public static T SecondDerivative(T y) => T.One - (y + y);
    public static Vector128<T> SecondDerivative(Vector128<T> y) => Vector128<T>.One - (y + y);
    public static Vector256<T> SecondDerivative(Vector256<T> y) => Vector256<T>.One - (y + y);
    public static Vector512<T> SecondDerivative(Vector512<T> y) => Vector512<T>.One - (y + y);
}

/// <summary>softplus y = log(1 + eˣ): σ'(x) = sigmoid(x) = 1 − e^(−y), and its derivative in y is e^(−y).</summary>
internal readonly struct SoftplusDerivative<T> : IActivationDerivative<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Derivative(T y) => T.One - T.Exp(-y);
    public static Vector128<T> Derivative(Vector128<T> y) => Vector128<T>.One - ExpNegative(y);
    public static Vector256<T> Derivative(Vector256<T> y) => Vector256<T>.One - ExpNegative(y);
    public static Vector512<T> Derivative(Vector512<T> y) => Vector512<T>.One - ExpNegative(y);
    public static T SecondDerivative(T y) => T.Exp(-y);
    public static Vector128<T> SecondDerivative(Vector128<T> y) => ExpNegative(y);
    public static Vector256<T> SecondDerivative(Vector256<T> y) => ExpNegative(y);
    public static Vector512<T> SecondDerivative(Vector512<T> y) => ExpNegative(y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> ExpNegative(Vector128<T> y)
    {
        if (typeof(T) == typeof(float)) return Vector128.Exp((-y).As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector128.Exp((-y).As<T, double>()).As<double, T>();
        throw new NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> ExpNegative(Vector256<T> y)
    {
        if (typeof(T) == typeof(float)) return Vector256.Exp((-y).As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.Exp((-y).As<T, double>()).As<double, T>();
        throw new NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> ExpNegative(Vector512<T> y)
    {
        if (typeof(T) == typeof(float)) return Vector512.Exp((-y).As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.Exp((-y).As<T, double>()).As<double, T>();
        throw new NotSupportedException();
    }
}

/// <summary>ReLU: σ'(x) = [y &gt; 0], whose derivative in y is 0.</summary>
internal readonly struct ReluDerivative<T> : IActivationDerivative<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Derivative(T y) => y > T.Zero ? T.One : T.Zero;
    public static Vector128<T> Derivative(Vector128<T> y) => Vector128.ConditionalSelect(Vector128.GreaterThan(y, Vector128<T>.Zero), Vector128<T>.One, Vector128<T>.Zero);
    public static Vector256<T> Derivative(Vector256<T> y) => Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<T>.Zero), Vector256<T>.One, Vector256<T>.Zero);
    public static Vector512<T> Derivative(Vector512<T> y) => Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<T>.Zero), Vector512<T>.One, Vector512<T>.Zero);
    public static T SecondDerivative(T y) => T.Zero;
    public static Vector128<T> SecondDerivative(Vector128<T> y) => Vector128<T>.Zero;
    public static Vector256<T> SecondDerivative(Vector256<T> y) => Vector256<T>.Zero;
    public static Vector512<T> SecondDerivative(Vector512<T> y) => Vector512<T>.Zero;
}

/// <summary>ELU with α = 1: σ'(x) = 1 for y &gt; 0, y + 1 otherwise; its derivative in y is 0 or 1.</summary>
internal readonly struct EluDerivative<T> : IActivationDerivative<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Derivative(T y) => y > T.Zero ? T.One : y + T.One;
    public static Vector128<T> Derivative(Vector128<T> y) => Vector128.ConditionalSelect(Vector128.GreaterThan(y, Vector128<T>.Zero), Vector128<T>.One, y + Vector128<T>.One);
    public static Vector256<T> Derivative(Vector256<T> y) => Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<T>.Zero), Vector256<T>.One, y + Vector256<T>.One);
    public static Vector512<T> Derivative(Vector512<T> y) => Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<T>.Zero), Vector512<T>.One, y + Vector512<T>.One);
    public static T SecondDerivative(T y) => y > T.Zero ? T.Zero : T.One;
    public static Vector128<T> SecondDerivative(Vector128<T> y) => Vector128.ConditionalSelect(Vector128.GreaterThan(y, Vector128<T>.Zero), Vector128<T>.Zero, Vector128<T>.One);
    public static Vector256<T> SecondDerivative(Vector256<T> y) => Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<T>.Zero), Vector256<T>.Zero, Vector256<T>.One);
    public static Vector512<T> SecondDerivative(Vector512<T> y) => Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<T>.Zero), Vector512<T>.Zero, Vector512<T>.One);
}

/// <summary>The identity: derivative 1, second derivative 0.</summary>
internal readonly struct IdentityDerivative<T> : IActivationDerivative<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Derivative(T y) => T.One;
    public static Vector128<T> Derivative(Vector128<T> y) => Vector128<T>.One;
    public static Vector256<T> Derivative(Vector256<T> y) => Vector256<T>.One;
    public static Vector512<T> Derivative(Vector512<T> y) => Vector512<T>.One;
    public static T SecondDerivative(T y) => T.Zero;
    public static Vector128<T> SecondDerivative(Vector128<T> y) => Vector128<T>.Zero;
    public static Vector256<T> SecondDerivative(Vector256<T> y) => Vector256<T>.Zero;
    public static Vector512<T> SecondDerivative(Vector512<T> y) => Vector512<T>.Zero;
}
