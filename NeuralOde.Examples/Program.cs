namespace NeuralOde.Examples;

/// <summary>The worked-examples console app. The examples themselves arrive with the examples issue.</summary>
internal static class Program
{
    private const string Usage = """
        NeuralOde examples

        usage: dotnet run --project NeuralOde.Examples -- [command]

        commands (coming with the examples issue):
          cnf             train a continuous normalizing flow on a 2-D toy density (default)
          spiral          learn a spiral's dynamics from one observed trajectory
          lotka-volterra  recover predator–prey parameters from noisy data
          sir             fit an SIR epidemic to noisy daily counts
          cooling         every solver against Newton's law of cooling
          classify        an ODE-Net classifier on Fashion-MNIST
          bench-memory    backprop / adjoint / checkpointed / reversible memory and time
        """;

    private static int Main(string[] args)
    {
        Console.WriteLine(Usage);
        return args.Length == 0 || args[0] is "--help" or "-h" ? 0 : 2;
    }
}
