using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Json.Serialization;
using NeuralOde.AutoDiff.Kernels;
using NeuralOde.AutoDiff.Threading;

namespace NeuralOde.Benchmarks.PeerWorkloads;

/// <summary>What a peer run ran on: the CPU, which vector widths .NET accelerates there, and the thread counts.</summary>
internal sealed record MachineInfo(
    [property: JsonPropertyName("cpu")] string Cpu,
    [property: JsonPropertyName("architecture")] string Architecture,
    [property: JsonPropertyName("runtime")] string Runtime,
    [property: JsonPropertyName("vector512")] bool Vector512,
    [property: JsonPropertyName("vector256")] bool Vector256,
    [property: JsonPropertyName("vector128")] bool Vector128,
    [property: JsonPropertyName("kernel_width")] string KernelWidth,
    [property: JsonPropertyName("vector_settings")] IReadOnlyDictionary<string, string> VectorSettings,
    [property: JsonPropertyName("processors")] int Processors,
    [property: JsonPropertyName("pool_threads")] int PoolThreads)
{
    /// <summary>The environment variables that change the vector widths .NET uses.</summary>
    private static readonly string[] Settings = ["DOTNET_PreferredVectorBitWidth", "DOTNET_EnableAVX512", "DOTNET_EnableAVX512F", "DOTNET_EnableAVX2", "DOTNET_EnableAVX", "DOTNET_EnableHWIntrinsic"];

    /// <summary>This process's machine: processors as the affinity mask allows (taskset), pool threads = <see cref="WorkerPool.Shared"/>'s participants.</summary>
    public static MachineInfo Current() => new(
        CpuModel(),
        RuntimeInformation.ProcessArchitecture.ToString(),
        RuntimeInformation.FrameworkDescription,
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated,
        System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated,
        System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated,
        Gemm.DefaultPath.ToString(),
        Settings.Where(s => Environment.GetEnvironmentVariable(s) is not null).ToDictionary(s => s, s => Environment.GetEnvironmentVariable(s)!),
        Environment.ProcessorCount,
        WorkerPool.Shared.Participants);

    /// <summary>One line for the console.</summary>
    public override string ToString() =>
        $"{Cpu} ({Architecture}); accelerated: Vector512 {Vector512}, Vector256 {Vector256}, Vector128 {Vector128}; kernels {KernelWidth}; " +
        $"{Processors} processors, pool of {PoolThreads}{(VectorSettings.Count > 0 ? "; " + string.Join(", ", VectorSettings.Select(p => $"{p.Key}={p.Value}")) : "")}";

    private static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                string? model = null, family = null, number = null;
                foreach (string line in File.ReadLines("/proc/cpuinfo"))
                {
                    int colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon < 0) { if (model is not null) break; continue; }
                    string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
                    if (key == "model name") model ??= value;
                    else if (key == "cpu family") family ??= value;
                    else if (key == "model") number ??= value;
                }
                if (model is not null) return family is null ? model : $"{model}, family {family} model {number}";
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER") ?? "unknown";
    }
}
