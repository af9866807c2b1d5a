using System.Runtime.Intrinsics;
using NeuralOde.AutoDiff.Kernels;

namespace NeuralOde.Tests.Support;

/// <summary>
/// The kernel widths this machine (and this process's DOTNET_PreferredVectorBitWidth) accelerates: the width-parameterised
/// kernel tests are generated for these only, and <c>KernelWidthTests</c> reports the others once.
/// </summary>
internal static class KernelWidths
{
    /// <summary>Whether <paramref name="path"/> runs in hardware here (the scalar path always does).</summary>
    public static bool IsAccelerated(GemmPath path) => path switch
    {
        GemmPath.Vector512 => Vector512.IsHardwareAccelerated,
        GemmPath.Vector256 => Vector256.IsHardwareAccelerated,
        GemmPath.Vector128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };

    /// <summary>Every accelerated width, scalar last.</summary>
    public static GemmPath[] Accelerated { get; } = Enum.GetValues<GemmPath>().Where(IsAccelerated).ToArray();

    /// <summary>The accelerated vector widths (no scalar).</summary>
    public static GemmPath[] AcceleratedVectors { get; } = Accelerated.Where(p => p != GemmPath.Scalar).ToArray();

    /// <summary>The widths whose tests are not generated on this machine.</summary>
    public static GemmPath[] Unaccelerated { get; } = Enum.GetValues<GemmPath>().Where(p => !IsAccelerated(p)).ToArray();
}
