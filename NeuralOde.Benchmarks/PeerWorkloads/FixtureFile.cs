using System.Numerics;
using System.Text.Json;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.Benchmarks.PeerWorkloads;

/// <summary>A peer fixture (Data/peer-fixtures/wN.json next to the benchmark binary): arrays by name, expected results by mode.</summary>
internal sealed class FixtureFile
{
    private readonly JsonElement root;

    private FixtureFile(JsonElement root) => this.root = root;

    public static FixtureFile Load(string workload)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Data", "peer-fixtures", workload + ".json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return new FixtureFile(document.RootElement.Clone());
    }

    public T[] Array<T>(string name)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        [.. root.GetProperty("arrays").GetProperty(name).GetProperty("data").EnumerateArray().Select(e => T.CreateTruncating(e.GetDouble()))];

    public JsonElement Expected(string mode) => root.GetProperty("expected").GetProperty(mode);

    /// <summary>Copies every tensor of the set from the array of the same name.</summary>
    public void LoadInto<T>(ParameterSet<T> parameters)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var p in parameters.Parameters) Array<T>(p.Name).CopyTo(p.Value);
    }
}
