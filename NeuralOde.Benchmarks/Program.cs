using System.Globalization;
using BenchmarkDotNet.Running;
using NeuralOde.Benchmarks.PeerWorkloads;

namespace NeuralOde.Benchmarks;

/// <summary>
/// Entry point. <c>peer [--quick] [--json PATH] [--only W4,W6]</c> runs the peer workloads of
/// ../shared/peer-workloads.md; <c>stiff [--quick]</c> the stiff work–precision table beside scipy; <c>stiff-nn [--quick]</c> a stiff neural ODE's training iteration; anything else goes to BenchmarkDotNet (e.g. <c>--filter '*Gemm*'</c>).
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "peer") return PeerRunner.Run(args[1..]);
        if (args.Length > 0 && args[0] == "stiff") return Stiff.StiffWorkPrecision.Run(args[1..]);
        if (args.Length > 0 && args[0] == "stiff-nn") return Stiff.StiffNeuralOde.Run(args[1..]);
        if (args.Length == 3 && args[0] == W4Memory.ChildCommand) return W4Memory.RunAsChild(args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
