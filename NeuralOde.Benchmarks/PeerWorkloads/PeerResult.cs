using System.Text.Json.Serialization;

namespace NeuralOde.Benchmarks.PeerWorkloads;

/// <summary>Median, minimum and maximum of repeated timings, in seconds.</summary>
public sealed record Timing(
    [property: JsonPropertyName("median")] double Median,
    [property: JsonPropertyName("min")] double Min,
    [property: JsonPropertyName("max")] double Max)
{
    public static Timing Of(IReadOnlyList<double> seconds)
    {
        var sorted = seconds.Order().ToArray();
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
        return new Timing(median, sorted[0], sorted[^1]);
    }
}

/// <summary>A fixed-work run: the fixture's weights and batch, one forward + backward, no optimizer step.</summary>
public sealed record FixedWork(
    [property: JsonPropertyName("loss")] double Loss,
    [property: JsonPropertyName("grad_norm")] double GradNorm,
    [property: JsonPropertyName("nfe_f")] long NfeF,
    [property: JsonPropertyName("nfe_b")] long NfeB,
    [property: JsonPropertyName("seconds")] Timing Seconds);

/// <summary>A named scalar outcome such as a held-out NLL.</summary>
public sealed record Metric(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("value")] double Value);

/// <summary>One row of the peer-workload table (and one object of the JSON array).</summary>
public sealed record PeerResult
{
    [JsonPropertyName("workload")] public required string Workload { get; init; }
    [JsonPropertyName("mode")] public required string Mode { get; init; }
    [JsonPropertyName("unit")] public required string Unit { get; init; }
    [JsonPropertyName("seconds")] public Timing? Seconds { get; init; }
    [JsonPropertyName("nfe_f")] public long? NfeF { get; init; }
    [JsonPropertyName("nfe_b")] public long? NfeB { get; init; }
    [JsonPropertyName("peak_memory_bytes")] public long? PeakMemoryBytes { get; init; }
    [JsonPropertyName("fixed_work")] public FixedWork? FixedWork { get; init; }
    [JsonPropertyName("metric")] public Metric? Metric { get; init; }
    [JsonPropertyName("gflops")] public double? GigaflopsPerSecond { get; init; }
    [JsonPropertyName("peer_seconds")] public double? PeerSeconds { get; init; }
}
