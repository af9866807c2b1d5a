namespace NeuralOde.AutoDiff;

/// <summary>An elementwise activation whose derivative can be written from its output, so fused layers keep only that output.</summary>
public enum Activation
{
    /// <summary>y = x.</summary>
    Identity,

    /// <summary>y = tanh(x).</summary>
    Tanh,

    /// <summary>y = 1 / (1 + e^(−x)).</summary>
    Sigmoid,

    /// <summary>y = log(1 + eˣ).</summary>
    Softplus,

    /// <summary>y = max(x, 0).</summary>
    Relu,

    /// <summary>y = x for x &gt; 0, eˣ − 1 otherwise (α = 1).</summary>
    Elu,
}
