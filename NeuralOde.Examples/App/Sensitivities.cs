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

    /// <summary>The same, plus Reversible, for examples whose solve runs with fixed steps (the reversible Heun solver).</summary>
    public static readonly IReadOnlyDictionary<string, Func<ISensitivity>> WithReversible = new Dictionary<string, Func<ISensitivity>>(ByName, StringComparer.Ordinal)
    {
        ["reversible"] = () => new Reversible(),
    };

    public static string[] Names => [.. ByName.Keys];

    public static ISensitivity Create(string name) =>
        ByName.TryGetValue(name, out var create) ? create() : throw new ExampleException($"Unknown sensitivity '{name}'; choose one of {string.Join(", ", Names)}.", ExitCodes.Usage);
}
