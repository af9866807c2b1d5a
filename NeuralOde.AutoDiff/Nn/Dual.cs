using System.Numerics;

namespace NeuralOde.AutoDiff.Nn;

/// <summary>A value and its forward-mode tangent, both recorded on one tape (so the tangent is itself differentiable).</summary>
/// <param name="Value">The primal value, B × D.</param>
/// <param name="Tangent">The tangent: K stacked directional derivatives, (K·B) × D.</param>
public readonly record struct Dual<T>(Var<T> Value, Var<T> Tangent)
    where T : unmanaged, IFloatingPointIeee754<T>;
