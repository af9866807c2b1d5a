using System.CommandLine;
using NeuralOde.Examples.Examples;
using Spectre.Console;

namespace NeuralOde.Examples.App;

/// <summary>Where the app prints and how it is stopped: the real console in the app, string writers in tests.</summary>
internal sealed record AppEnvironment(IAnsiConsole Console, TextWriter Output, TextWriter Error, CancellationToken Cancellation)
{
    public static AppEnvironment ForWriter(TextWriter writer, CancellationToken cancellation = default)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 160;
        return new AppEnvironment(console, writer, writer, cancellation);
    }
}

/// <summary>The command tree: one subcommand per example, each with --help and the shared options.</summary>
internal static class ExampleApp
{
    /// <summary>The command run when none is given.</summary>
    public const string DefaultCommand = "cnf";

    public static RootCommand Build(AppEnvironment environment)
    {
        var root = new RootCommand($"""
            NeuralOde worked examples: neural ODEs trained and plotted from the command line.
            With no command, runs `{DefaultCommand}`.
            Every command takes --seed, --out DIR (default ./out), --iterations and --smoke; try `<command> --help`.
            """);
        root.Subcommands.Add(CnfExample.Command(environment));
        root.Subcommands.Add(SpiralExample.Command(environment));
        root.Subcommands.Add(LotkaVolterraExample.Command(environment));
        root.Subcommands.Add(SirExample.Command(environment));
        root.Subcommands.Add(RobertsonExample.Command(environment));
        root.Subcommands.Add(CoolingExample.Command(environment));
        root.Subcommands.Add(ClassifyExample.Command(environment));
        root.Subcommands.Add(BenchMemoryExample.Command(environment));
        return root;
    }

    /// <summary>Parses and runs; a parse error prints the error and usage and returns <see cref="ExitCodes.Usage"/>.</summary>
    public static int Run(string[] args, AppEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        // Options without a command (e.g. `--out DIR`) go to the default command too; --help and --version stay global.
        if (args.Length > 0 && args[0].StartsWith('-') && args[0] is not ("--help" or "-h" or "-?" or "--version"))
            args = [DefaultCommand, .. args];
        if (args.Length == 0)
        {
            environment.Console.MarkupLineInterpolated($"[grey]No command given: running `{DefaultCommand}`. See --help for the others.[/]");
            args = [DefaultCommand];
        }
        var root = Build(environment);
        if (!args[0].StartsWith('-') && !root.Subcommands.Any(c => c.Name == args[0]))
        {
            return UsageError(environment, [$"unknown command '{args[0]}'; the commands are {string.Join(", ", root.Subcommands.Select(c => c.Name))}."], null);
        }
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            return UsageError(environment, [.. parsed.Errors.Select(e => Readable(e.Message)).Distinct()], args[0]);
        }
        return parsed.Invoke(new InvocationConfiguration
        {
            Output = environment.Output,
            Error = environment.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        });
    }

    /// <summary>Prints each error on one line and one line pointing at --help (not the whole help, which would push the error off screen).</summary>
    private static int UsageError(AppEnvironment environment, IReadOnlyList<string> errors, string? command)
    {
        foreach (string error in errors) environment.Console.MarkupLineInterpolated($"[red]error:[/] {error}");
        string help = command is null ? "--help" : $"{command} --help";
        environment.Console.MarkupLineInterpolated($"[grey]See `dotnet run -c Release --project NeuralOde.Examples -- {help}` for the usage and options.[/]");
        return ExitCodes.Usage;
    }

    /// <summary>A parser message on one line, with .NET type names replaced by what the user should type.</summary>
    internal static string Readable(string message)
    {
        string text = string.Join(" ", message.Replace("\r", "", StringComparison.Ordinal).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));
        return text
            .Replace("'System.Nullable`1[System.Int32]'", "a whole number", StringComparison.Ordinal)
            .Replace("'System.Int32'", "a whole number", StringComparison.Ordinal)
            .Replace("'System.Int64'", "a whole number", StringComparison.Ordinal)
            .Replace("'System.Double'", "a number", StringComparison.Ordinal)
            .Replace("'System.Single'", "a number", StringComparison.Ordinal)
            .Replace("'System.Boolean'", "true or false", StringComparison.Ordinal)
            .Replace("as expected type ", "as ", StringComparison.Ordinal)
            .Replace("Must be one of: ", "Must be one of ", StringComparison.Ordinal);
    }

    /// <summary>Runs one example's body, turning the failures a user can act on into a message and an exit code.</summary>
    public static int Guard(AppEnvironment environment, Func<int> body)
    {
        try
        {
            int code = body();
            return environment.Cancellation.IsCancellationRequested && code == ExitCodes.Success ? ExitCodes.Cancelled : code;
        }
        catch (ExampleException e)
        {
            environment.Console.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return e.ExitCode;
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException or NeuralOde.Core.OdeSolverException)
        {
            environment.Console.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return ExitCodes.Failure;
        }
    }
}
