using System.CommandLine;
using NeuralOde.Examples.App;

namespace NeuralOde.Examples.Examples;

internal static class ClassifyExample
{
    public static Command Command(AppEnvironment environment)
    {
        var common = new CommonOptions("Training iterations.");
        var command = new Command("classify", "todo");
        common.AddTo(command);
        command.SetAction(result => ExampleApp.Guard(environment, () => 0));
        return command;
    }
}
