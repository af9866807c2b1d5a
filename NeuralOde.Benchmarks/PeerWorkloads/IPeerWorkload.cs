namespace NeuralOde.Benchmarks.PeerWorkloads;

/// <summary>One workload of ../shared/peer-workloads.md, reproduced as written there.</summary>
internal interface IPeerWorkload
{
    /// <summary>W1 … W6.</summary>
    string Name { get; }

    /// <summary>Runs the workload and returns its rows; <paramref name="quick"/> shortens repeats, not the work of one repeat.</summary>
    IEnumerable<PeerResult> Run(bool quick);
}
