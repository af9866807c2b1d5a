using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using NeuralOde.AutoDiff.Kernels;

namespace NeuralOde.AutoDiff;

public static partial class Ops
{
    /// <summary>tanh(x), elementwise.</summary>
    /// <remarks>In float, within 1 ulp of the correctly rounded value and bitwise the same at every vector width; in double, TensorPrimitives.Tanh.</remarks>
    /// <param name="x">The operand.</param>
    /// <returns>The activation.</returns>
    public static Var<T> Tanh<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Activate(x, Activation.Tanh);

    /// <summary>The logistic sigmoid 1 / (1 + e^(−x)), elementwise.</summary>
    /// <param name="x">The operand.</param>
    /// <returns>The activation.</returns>
    public static Var<T> Sigmoid<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Activate(x, Activation.Sigmoid);

    /// <summary>softplus(x) = log(1 + eˣ), elementwise, computed stably as max(x, 0) + log(1 + e^(−|x|)).</summary>
    /// <param name="x">The operand.</param>
    /// <returns>The activation.</returns>
    public static Var<T> Softplus<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Activate(x, Activation.Softplus);

    /// <summary>max(x, 0), elementwise (gradient 0 at x = 0, as PyTorch).</summary>
    /// <param name="x">The operand.</param>
    /// <returns>The activation.</returns>
    public static Var<T> Relu<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Activate(x, Activation.Relu);

    /// <summary>ELU with α = 1: x for x &gt; 0, eˣ − 1 otherwise.</summary>
    /// <param name="x">The operand.</param>
    /// <returns>The activation.</returns>
    public static Var<T> Elu<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Activate(x, Activation.Elu);

    /// <summary>Applies <paramref name="activation"/> elementwise (identity records nothing and returns x).</summary>
    /// <param name="x">The operand.</param>
    /// <param name="activation">The activation.</param>
    /// <returns>The activation's output.</returns>
    public static Var<T> Activate<T>(Var<T> x, Activation activation)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(x, nameof(x));
        int ix = tape.Check(x, nameof(x));
        if (activation == Activation.Identity) return x;
        var kind = activation switch
        {
            Activation.Tanh => OpKind.Tanh,
            Activation.Sigmoid => OpKind.Sigmoid,
            Activation.Softplus => OpKind.Softplus,
            Activation.Relu => OpKind.Relu,
            Activation.Elu => OpKind.Elu,
            _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
        };
        int index = tape.Push(kind, tape.Node(ix).Shape, tape.RequiresGrad(ix), ix);
        tape.Node(index).IntArg0 = (int)activation;
        ActivateInPlace(tape.Value(ix), tape.Value(index), activation);
        return tape.Handle(index);
    }

    /// <summary>Swish (SiLU) x·sigmoid(x), elementwise; keeps sigmoid(x) for its backward.</summary>
    /// <param name="x">The operand.</param>
    /// <returns>The activation.</returns>
    public static Var<T> Swish<T>(Var<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(x, nameof(x));
        int ix = tape.Check(x, nameof(x));
        int index = tape.Push(OpKind.Swish, tape.Node(ix).Shape, tape.RequiresGrad(ix), ix);
        ReadOnlySpan<T> xv = tape.Value(ix);
        var s = tape.AllocateAux(index, xv.Length);
        TensorPrimitives.Sigmoid(xv, s);
        TensorPrimitives.Multiply(xv, s, tape.Value(index));
        return tape.Handle(index);
    }

    /// <summary>σ'(x) written from the activation's output y = σ(x): e.g. 1 − y² for tanh.</summary>
    /// <param name="y">The activation's output.</param>
    /// <param name="activation">Which activation produced <paramref name="y"/>.</param>
    /// <returns>The derivative, a differentiable value (its own gradient flows to y), for forward-mode tangents.</returns>
    public static Var<T> ActivationDerivative<T>(Var<T> y, Activation activation)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tape = TapeOf(y, nameof(y));
        int iy = tape.Check(y, nameof(y));
        int index = tape.Push(OpKind.ActivationDerivative, tape.Node(iy).Shape, tape.RequiresGrad(iy), iy);
        tape.Node(index).IntArg0 = (int)activation;
        ReadOnlySpan<T> yv = tape.Value(iy);
        ApplyDerivative(ActivationFunction.Derivative, activation, yv, yv, tape.Value(index), accumulate: false);
        return tape.Handle(index);
    }

    /// <summary>Computes y = σ(x) into <paramref name="y"/> (which may alias <paramref name="x"/>).</summary>
    internal static void ActivateInPlace<T>(ReadOnlySpan<T> x, Span<T> y, Activation activation)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (activation)
        {
            case Activation.Identity: if (!x.Overlaps(y)) x.CopyTo(y); break;
            case Activation.Tanh when typeof(T) == typeof(float):
                ElementwiseDriver.Apply<float, TanhSingle>(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
                break;
            case Activation.Tanh: TensorPrimitives.Tanh(x, y); break;
            case Activation.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
            case Activation.Relu: TensorPrimitives.Max(x, T.Zero, y); break;
            case Activation.Softplus:
                for (int i = 0; i < x.Length; i++)
                {
                    T v = x[i];
                    y[i] = T.Max(v, T.Zero) + T.LogP1(T.Exp(-T.Abs(v)));
                }
                break;
            case Activation.Elu:
                for (int i = 0; i < x.Length; i++)
                {
                    T v = x[i];
                    y[i] = v > T.Zero ? v : T.ExpM1(v);
                }
                break;
            default: throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        }
    }

    /// <summary>Which function of an activation's derivative the derivative kernels compute.</summary>
    internal enum ActivationFunction
    {
        /// <summary>g · σ'(y).</summary>
        GradientTimesDerivative,

        /// <summary>g · dσ'/dy.</summary>
        GradientTimesSecondDerivative,

        /// <summary>σ'(y), ignoring g.</summary>
        Derivative,
    }

    /// <summary>destination (+)= f(g, y) for the chosen function of the activation's derivative.</summary>
    internal static void ApplyDerivative<T>(ActivationFunction function, Activation activation, ReadOnlySpan<T> g, ReadOnlySpan<T> y, Span<T> destination, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (activation)
        {
            case Activation.Identity: ApplyDerivative<T, IdentityDerivative<T>>(function, g, y, destination, accumulate); break;
            case Activation.Tanh: ApplyDerivative<T, TanhDerivative<T>>(function, g, y, destination, accumulate); break;
            case Activation.Sigmoid: ApplyDerivative<T, SigmoidDerivative<T>>(function, g, y, destination, accumulate); break;
            case Activation.Softplus: ApplyDerivative<T, SoftplusDerivative<T>>(function, g, y, destination, accumulate); break;
            case Activation.Relu: ApplyDerivative<T, ReluDerivative<T>>(function, g, y, destination, accumulate); break;
            case Activation.Elu: ApplyDerivative<T, EluDerivative<T>>(function, g, y, destination, accumulate); break;
            default: throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        }
    }

    private static void ApplyDerivative<T, TAct>(ActivationFunction function, ReadOnlySpan<T> g, ReadOnlySpan<T> y, Span<T> destination, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TAct : struct, IActivationDerivative<T>
    {
        switch (function)
        {
            case ActivationFunction.GradientTimesDerivative: ElementwiseDriver.Apply<T, GradientTimesDerivative<T, TAct>>(g, y, destination, accumulate); break;
            case ActivationFunction.GradientTimesSecondDerivative: ElementwiseDriver.Apply<T, GradientTimesSecondDerivative<T, TAct>>(g, y, destination, accumulate); break;
            default: ElementwiseDriver.Apply<T, DerivativeOf<T, TAct>>(g, y, destination, accumulate); break;
        }
    }

    internal static void ActivationBackward<T>(Tape<T> tape, int index)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var node = ref tape.Node(index);
        ReadOnlySpan<T> g = tape.GradSpan(index);
        var gx = tape.GradSpan(node.Input0);
        switch (node.Op)
        {
            case OpKind.Swish:
            {
                // y = x·s with s = sigmoid(x): ∂y/∂x = s + x·s(1 − s) = s + y(1 − s).
                ReadOnlySpan<T> s = tape.Aux(index), y = tape.Value(index);
                for (int i = 0; i < g.Length; i++) gx[i] += g[i] * (s[i] + y[i] * (T.One - s[i]));
                break;
            }
            case OpKind.ActivationDerivative:
                ApplyDerivative(ActivationFunction.GradientTimesSecondDerivative, (Activation)node.IntArg0, g, tape.Value(node.Input0), gx, accumulate: true);
                break;
            default:
                ApplyDerivative(ActivationFunction.GradientTimesDerivative, (Activation)node.IntArg0, g, tape.Value(index), gx, accumulate: true);
                break;
        }
    }
}
