using NeuralOde.Core.Sensitivity;

namespace NeuralOde.Examples.App;

/// <summary>The gradient strategies an example can be asked for by name.</summary>
internal static class Sensitivities
{
    public static readonly IReadOnlyDictionary<string, Func<ISensitivity>> ByName = new Dictionary<string, Func<ISensitivity>>(StringComparer.Ordinal)
    {
        ["backprop"] = () => new Backprop(),
        ["checkpointed"] = () => new Checkpointed(),
        ["adjoint"] = () => new Adjoint(),
    };

    /// <summary>
    /// The same, plus the reversible strategies, for examples that pick a solve to suit them: Reversible (fixed
    /// reversible-Heun steps) and ReversibleRungeKutta (McCallum–Foster around the example's own method, landing on the
    /// end time rather than stepping past it).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, Func<ISensitivity>> WithReversible = new Dictionary<string, Func<ISensitivity>>(ByName, StringComparer.Ordinal)
    {
        ["reversible"] = () => new Reversible(),
        ["reversible-rk"] = () => new ReversibleRungeKutta(),
    };

    public static string[] Names => [.. ByName.Keys];

    public static ISensitivity Create(string name) =>
        ByName.TryGetValue(name, out var create) ? create() : throw new ExampleException($"Unknown sensitivity '{name}'; choose one of {string.Join(", ", Names)}.", ExitCodes.Usage);
}
