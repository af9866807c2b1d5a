using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace NeuralOde.AutoDiff.Kernels;

/// <summary>
/// The handful of vector operations a GEMM micro-kernel needs, for one element type and one vector width, plus the
/// register-block shape that suits that width.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <typeparam name="TVector">The register type: a SIMD vector of <typeparamref name="T"/>, or <typeparamref name="T"/> itself for the scalar path.</typeparam>
/// <remarks>
/// Implemented by structs so the JIT specialises and inlines every call. There is no generic
/// <c>Vector512.FusedMultiplyAdd&lt;T&gt;</c>, so each (type, width) pair gets its own struct. Every implementation
/// computes <c>x·y + z</c> with a single rounding, which makes the vector and scalar paths bitwise identical.
/// </remarks>
internal interface IGemmVector<T, TVector>
    where T : unmanaged
    where TVector : unmanaged
{
    /// <summary>Elements per register.</summary>
    static abstract int Count { get; }

    /// <summary>Rows of C in a full micro-tile.</summary>
    static abstract int TileRows { get; }

    /// <summary>Registers per row of C in a full micro-tile (the tile is <see cref="TileRows"/> × TileVectors·Count).</summary>
    static abstract int TileVectors { get; }

    /// <summary>Loads <see cref="Count"/> contiguous elements.</summary>
    static abstract TVector Load(ref T source);

    /// <summary>Stores <see cref="Count"/> contiguous elements.</summary>
    static abstract void Store(ref T destination, TVector value);

    /// <summary>Every lane set to <paramref name="value"/>.</summary>
    static abstract TVector Broadcast(T value);

    /// <summary>x·y + addend, rounded once.</summary>
    static abstract TVector MultiplyAdd(TVector x, TVector y, TVector addend);
}

/// <summary>float in 512-bit registers: 6 rows × 4 registers (24 accumulators of 32 zmm).</summary>
internal readonly struct Float512 : IGemmVector<float, Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static int TileRows => 6;
    public static int TileVectors => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float source) => Vector512.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(ref float destination, Vector512<float> value) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> x, Vector512<float> y, Vector512<float> addend) => Vector512.FusedMultiplyAdd(x, y, addend);
}

/// <summary>double in 512-bit registers: 6 rows × 4 registers.</summary>
internal readonly struct Double512 : IGemmVector<double, Vector512<double>>
{
    public static int Count => Vector512<double>.Count;
    public static int TileRows => 6;
    public static int TileVectors => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Load(ref double source) => Vector512.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(ref double destination, Vector512<double> value) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Broadcast(double value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> MultiplyAdd(Vector512<double> x, Vector512<double> y, Vector512<double> addend) => Vector512.FusedMultiplyAdd(x, y, addend);
}

/// <summary>float in 256-bit registers: 6 rows × 2 registers (fits the 16 ymm of an AVX2 machine).</summary>
internal readonly struct Float256 : IGemmVector<float, Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static int TileRows => 6;
    public static int TileVectors => 2;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float source) => Vector256.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(ref float destination, Vector256<float> value) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> x, Vector256<float> y, Vector256<float> addend) => Vector256.FusedMultiplyAdd(x, y, addend);
}

/// <summary>double in 256-bit registers: 6 rows × 2 registers.</summary>
internal readonly struct Double256 : IGemmVector<double, Vector256<double>>
{
    public static int Count => Vector256<double>.Count;
    public static int TileRows => 6;
    public static int TileVectors => 2;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Load(ref double source) => Vector256.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(ref double destination, Vector256<double> value) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Broadcast(double value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> MultiplyAdd(Vector256<double> x, Vector256<double> y, Vector256<double> addend) => Vector256.FusedMultiplyAdd(x, y, addend);
}

/// <summary>
/// float in 128-bit registers: 6 rows × 4 registers where there are 32 vector registers (ARM64's NEON, or x64 with
/// AVX-512's EVEX encoding: 24 accumulators, 4 panel registers and the broadcast), else 6 × 2 (12 accumulators of 16 xmm).
/// </summary>
/// <remarks>
/// With DOTNET_PreferredVectorBitWidth=128 on an AVX-512 machine the 6 × 4 tile ran the 512×64·64×64 product about
/// 15–20 % faster than 6 × 2 (27 against 22 GFLOP/s, one core, a noisy sitting); it is not measured on ARM64 hardware.
/// </remarks>
internal readonly struct Float128 : IGemmVector<float, Vector128<float>>
{
    public static int Count => Vector128<float>.Count;
    public static int TileRows => 6;
    public static int TileVectors => AdvSimd.Arm64.IsSupported || Avx512F.IsSupported ? 4 : 2;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float source) => Vector128.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(ref float destination, Vector128<float> value) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> x, Vector128<float> y, Vector128<float> addend) => Vector128.FusedMultiplyAdd(x, y, addend);
}

/// <summary>double in 128-bit registers: the same tiles as <see cref="Float128"/>.</summary>
internal readonly struct Double128 : IGemmVector<double, Vector128<double>>
{
    public static int Count => Vector128<double>.Count;
    public static int TileRows => 6;
    public static int TileVectors => AdvSimd.Arm64.IsSupported || Avx512F.IsSupported ? 4 : 2;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Load(ref double source) => Vector128.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(ref double destination, Vector128<double> value) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Broadcast(double value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> MultiplyAdd(Vector128<double> x, Vector128<double> y, Vector128<double> addend) => Vector128.FusedMultiplyAdd(x, y, addend);
}

/// <summary>The scalar path: a "register" is one element; 4 rows × 2 columns keeps 8 accumulators in the 16 xmm of any x64.</summary>
internal readonly struct ScalarVector<T> : IGemmVector<T, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Count => 1;
    public static int TileRows => 4;
    public static int TileVectors => 2;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Load(ref T source) => source;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(ref T destination, T value) => destination = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Broadcast(T value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T MultiplyAdd(T x, T y, T addend) => T.FusedMultiplyAdd(x, y, addend);
}

/// <summary>A compile-time integer carried by a struct type, so a generic kernel specialised on it has constant loop shapes.</summary>
internal interface IGemmConstant
{
    /// <summary>The value.</summary>
    static abstract int Value { get; }
}

#pragma warning disable CA1812 // used only as generic arguments
internal readonly struct GemmOne : IGemmConstant { public static int Value => 1; }
internal readonly struct GemmTwo : IGemmConstant { public static int Value => 2; }
internal readonly struct GemmThree : IGemmConstant { public static int Value => 3; }
internal readonly struct GemmFour : IGemmConstant { public static int Value => 4; }
internal readonly struct GemmFive : IGemmConstant { public static int Value => 5; }
internal readonly struct GemmSix : IGemmConstant { public static int Value => 6; }
#pragma warning restore CA1812
