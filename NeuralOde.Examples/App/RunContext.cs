using Spectre.Console;

namespace NeuralOde.Examples.App;

/// <summary>What every example receives: the shared options, where to write, where to print, and the Ctrl+C token.</summary>
internal sealed record RunContext(IAnsiConsole Console, int Seed, DirectoryInfo OutputDirectory, int? Iterations, bool Smoke, CancellationToken Cancellation)
{
    /// <summary>The iteration count: --iterations when given, else the example's default (a small one in smoke mode).</summary>
    public int IterationsOr(int normal, int smoke) => Iterations ?? (Smoke ? smoke : normal);

    /// <summary>A path inside the output folder, which is created on first use.</summary>
    public string OutputPath(string fileName)
    {
        OutputDirectory.Create();
        return Path.Combine(OutputDirectory.FullName, fileName);
    }

    public bool Cancelled => Cancellation.IsCancellationRequested;

    /// <summary>Prints one line of plain text (no markup).</summary>
    public void Line(string text = "") => Console.WriteLine(text);

    /// <summary>Prints the list of written files.</summary>
    public void Wrote(params string[] paths)
    {
        foreach (string path in paths) Console.MarkupLineInterpolated($"[grey]wrote[/] {path}");
    }
}

/// <summary>A failure the user can act on (missing data, a bad combination of options): printed without a stack trace.</summary>
internal sealed class ExampleException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

internal static class ExitCodes
{
    public const int Success = 0;
    public const int Usage = 1;
    public const int Failure = 2;
    public const int MissingData = 3;
    public const int Cancelled = 130;
}
