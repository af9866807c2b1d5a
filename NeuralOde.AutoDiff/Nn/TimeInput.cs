namespace NeuralOde.AutoDiff.Nn;

/// <summary>How a network f(x, t) sees the time t.</summary>
public enum TimeInput
{
    /// <summary>Not at all: f(x).</summary>
    None,

    /// <summary>As an extra input column: the first layer sees [x, t] (x first), as torchdiffeq's example networks.</summary>
    Concat,

    /// <summary>Through FFJORD's ConcatSquash layers: every layer is gated and shifted by functions of t.</summary>
    ConcatSquash,
}
