using BenchmarkDotNet.Running;

namespace NeuralOde.Benchmarks;

/// <summary>Entry point: BenchmarkDotNet suites selected with --filter.</summary>
internal static class Program
{
    private static void Main(string[] args) =>
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
