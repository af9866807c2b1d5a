using System.CommandLine;
using System.CommandLine.Parsing;

namespace NeuralOde.Examples.App;

/// <summary>The options every subcommand shares: --seed, --out, --iterations and --smoke.</summary>
internal sealed class CommonOptions
{
    private readonly Option<int> seed = new("--seed")
    {
        Description = "Seed for every random draw (data, noise, initial weights).",
        DefaultValueFactory = _ => 0,
    };

    private readonly Option<DirectoryInfo> output = new("--out")
    {
        Description = "Folder for the PNG plots and other outputs.",
        DefaultValueFactory = _ => new DirectoryInfo("out"),
    };

    private readonly Option<int?> iterations = new("--iterations")
    {
        Description = "Training iterations (each example has its own default).",
    };

    private readonly Option<bool> smoke = new("--smoke")
    {
        Description = "A tiny run that only checks the example end to end (a few iterations, small data).",
    };

    /// <param name="iterationsMeaning">What --iterations counts for this command (its help text).</param>
    /// <param name="maximumIterations">The largest --iterations the command accepts.</param>
    /// <param name="whyMaximum">Why there is a maximum, printed with the error.</param>
    public CommonOptions(string iterationsMeaning, int maximumIterations = int.MaxValue, string? whyMaximum = null)
    {
        iterations.Description = iterationsMeaning;
        iterations.Validators.Add(result =>
        {
            if (!Options.TryGetValue<int?>(result, out var value) || value is not int n) return;
            if (n < 1) result.AddError($"--iterations must be at least 1, got {n}.");
            else if (n > maximumIterations) result.AddError($"--iterations must be at most {maximumIterations}, got {n}{(whyMaximum is null ? "." : $": {whyMaximum}")}");
        });
    }

    public void AddTo(Command command)
    {
        command.Options.Add(seed);
        command.Options.Add(output);
        command.Options.Add(iterations);
        command.Options.Add(smoke);
    }

    /// <summary>The run's context; the output folder is created and checked for writing first, before any work.</summary>
    /// <exception cref="ExampleException">--out names a file or a folder that cannot be created or written.</exception>
    /// <param name="result">The parse result.</param>
    /// <param name="environment">Where to print.</param>
    /// <param name="writesOutputs">False for a run that writes no files (bench-memory's child measurements), which then leaves --out alone.</param>
    public RunContext Bind(ParseResult result, AppEnvironment environment, bool writesOutputs = true)
    {
        var folder = result.GetValue(output) ?? new DirectoryInfo("out");
        if (writesOutputs) EnsureWritable(folder);
        return new(environment.Console, result.GetValue(seed), folder, result.GetValue(iterations), result.GetValue(smoke), environment.Cancellation);
    }

    /// <summary>Creates <paramref name="folder"/> and writes and deletes a probe file in it, so an unusable --out fails now rather than after the run.</summary>
    internal static void EnsureWritable(DirectoryInfo folder)
    {
        string path = folder.FullName;
        if (File.Exists(path)) throw new ExampleException($"--out {path} is a file, not a folder: give a folder for the plots.", ExitCodes.Usage);
        try
        {
            Directory.CreateDirectory(path);
            string probe = Path.Combine(path, $".neuralode-write-test-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExampleException($"--out {path} cannot be used as the output folder ({e.Message.TrimEnd('.')}): give a folder you can create and write to. Nothing was run.", ExitCodes.Usage);
        }
    }
}

/// <summary>Option helpers: choices are validated at parse time, so a bad value is a usage error, not an exception.</summary>
internal static class Options
{
    public static Option<string> Choice(string name, string description, string defaultValue, params string[] choices)
    {
        var option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.AcceptOnlyFromAmong(choices);
        return option;
    }

    public static Option<T> Positive<T>(string name, string description, T defaultValue)
        where T : struct, System.Numerics.INumber<T>
    {
        var option = new Option<T>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            if (TryGetValue<T>(r, out var value) && !(value > T.Zero)) r.AddError($"{name} must be positive, got {value}.");
        });
        return option;
    }

    /// <summary>An option's converted value inside a validator; false when the text did not convert (the parser reports that itself).</summary>
    public static bool TryGetValue<T>(OptionResult result, out T? value)
    {
        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default;
            return false;
        }
    }
}
