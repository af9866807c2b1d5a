using NeuralOde.Core.Sensitivity;

namespace NeuralOde.Examples.App;

/// <summary>The gradient strategies an example can be asked for by name. Adding Adjoint or Reversible is one line each.</summary>
internal static class Sensitivities
{
    public static readonly IReadOnlyDictionary<string, Func<ISensitivity>> ByName = new Dictionary<string, Func<ISensitivity>>(StringComparer.Ordinal)
    {
        ["backprop"] = () => new Backprop(),
        ["checkpointed"] = () => new Checkpointed(),
        // When merged: ["adjoint"] = () => new Adjoint(), and ["reversible"] (which needs the ReversibleHeun solver, so
        // an example offering it must also switch its SolveOptions.Method).
    };

    public static string[] Names => [.. ByName.Keys];

    public static ISensitivity Create(string name) =>
        ByName.TryGetValue(name, out var create) ? create() : throw new ExampleException($"Unknown sensitivity '{name}'; choose one of {string.Join(", ", Names)}.", ExitCodes.Usage);
}
