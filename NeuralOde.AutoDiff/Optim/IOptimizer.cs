namespace NeuralOde.AutoDiff.Optim;

/// <summary>Updates a parameter set's values from its gradients, one step at a time.</summary>
public interface IOptimizer
{
    /// <summary>The learning rate used by the next <see cref="Step"/>; a schedule may change it between steps.</summary>
    double LearningRate { get; set; }

    /// <summary>How many steps have been taken.</summary>
    long StepCount { get; }

    /// <summary>Applies one update to the parameters from their current gradients. Allocates nothing.</summary>
    void Step();

    /// <summary>Sets the parameters' gradients to zero (the optimizer's own state is kept).</summary>
    void ZeroGradients();
}
