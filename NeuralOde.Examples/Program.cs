using NeuralOde.Examples.App;
using Spectre.Console;

namespace NeuralOde.Examples;

/// <summary>The worked-examples console app: `dotnet run --project NeuralOde.Examples -- [command] [options]`.</summary>
public static class Program
{
    /// <summary>Entry point. The first Ctrl+C asks the running example to stop and still write its outputs; a second one ends the process.</summary>
    public static int Main(string[] args)
    {
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            if (cancellation.IsCancellationRequested) return;
            e.Cancel = true;
            cancellation.Cancel();
        };
        // Redirected output (a log file, CI) would otherwise wrap tables and progress lines at 80 columns.
        if (Console.IsOutputRedirected) AnsiConsole.Console.Profile.Width = 160;
        return ExampleApp.Run(args, new AppEnvironment(AnsiConsole.Console, Console.Out, Console.Error, cancellation.Token));
    }

    /// <summary>Runs the app in-process with all output sent to <paramref name="output"/> (for tests): returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, CancellationToken cancellation = default) =>
        ExampleApp.Run(args, AppEnvironment.ForWriter(output, cancellation));
}
