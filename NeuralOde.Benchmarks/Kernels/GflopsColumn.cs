using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NeuralOde.Benchmarks.Kernels;

/// <summary>A summary column with the throughput in GFLOP/s: floating-point operations per invocation over the mean (or best) time.</summary>
/// <param name="flopsPerInvocation">The operations one benchmark invocation performs (2·m·n·k for a product).</param>
/// <param name="fromBestIteration">Use the fastest iteration instead of the mean: on a shared machine, the least disturbed measurement.</param>
internal sealed class GflopsColumn(Func<BenchmarkCase, double> flopsPerInvocation, bool fromBestIteration = false) : IColumn
{
    public string Id => nameof(GflopsColumn) + (fromBestIteration ? "Best" : "Mean");
    public string ColumnName => fromBestIteration ? "GFLOP/s best" : "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => $"Floating-point operations per second, 1e9, from the {(fromBestIteration ? "fastest iteration's" : "mean")} time (a multiply-add counts 2)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        double? nanoseconds = fromBestIteration ? statistics?.Min : statistics?.Mean;
        return nanoseconds is > 0 ? (flopsPerInvocation(benchmarkCase) / nanoseconds.Value).ToString("F1", System.Globalization.CultureInfo.InvariantCulture) : "NA";
    }

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public override string ToString() => ColumnName;
}
