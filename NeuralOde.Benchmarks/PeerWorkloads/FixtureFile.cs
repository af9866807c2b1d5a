using System.Numerics;
using System.Text.Json;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.Benchmarks.PeerWorkloads;

/// <summary>A peer fixture (Data/peer-fixtures/wN.json next to the benchmark binary), read with the library's <see cref="TensorFile"/>.</summary>
internal sealed class FixtureFile
{
    private readonly TensorFile file;

    private FixtureFile(TensorFile file) => this.file = file;

    public static FixtureFile Load(string workload) =>
        new(TensorFile.Open(Path.Combine(AppContext.BaseDirectory, "Data", "peer-fixtures", workload + ".json")));

    public T[] Array<T>(string name)
        where T : unmanaged, IFloatingPointIeee754<T> => file.ReadArray<T>(name).Data;

    public JsonElement Expected(string mode) => file.Root.GetProperty("expected").GetProperty(mode);

    /// <summary>Loads every tensor of the set from the array of the same name.</summary>
    public void LoadInto<T>(ParameterSet<T> parameters)
        where T : unmanaged, IFloatingPointIeee754<T> => parameters.Load(file);
}
