using System.Diagnostics;
using System.Numerics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.AutoDiff.Optim;
using NeuralOde.Core.Sensitivity;

namespace NeuralOde.Core.Flows;

/// <summary>Training settings for <see cref="CnfTrainer"/>; the defaults are FFJORD's 2-D runs (Adam lr 1e-3, weight decay 1e-5, batch 100).</summary>
public sealed record CnfTrainingOptions
{
    /// <summary>How many optimizer steps.</summary>
    public int Iterations { get; init; } = 1000;

    /// <summary>Points per batch.</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Adam's learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Adam's coupled (PyTorch-style, L2 added to the gradient) weight decay.</summary>
    public double WeightDecay { get; init; } = 1e-5;

    /// <summary>How gradients flow back through the solves (null: <see cref="Backprop"/>).</summary>
    public ISensitivity? Sensitivity { get; init; }

    /// <summary>The seed of the Hutchinson probes: iteration i draws them from a seed derived from this and i.</summary>
    public int NoiseSeed { get; init; }

    /// <summary>Report progress every this many iterations (and at the last).</summary>
    public int ReportEvery { get; init; } = 1;
}

/// <summary>Progress of a CNF training run.</summary>
/// <param name="Iteration">The 1-based iteration just finished.</param>
/// <param name="Loss">The training loss of that iteration's batch (NLL plus regularisers).</param>
/// <param name="NegativeLogLikelihood">Its negative log-likelihood, nats per point.</param>
/// <param name="ForwardEvaluations">NFE-F of the iteration.</param>
/// <param name="BackwardEvaluations">NFE-B of the iteration (0 for Backprop).</param>
/// <param name="IterationsPerSecond">The rate since training started.</param>
public readonly record struct CnfProgress(int Iteration, double Loss, double NegativeLogLikelihood, long ForwardEvaluations, long BackwardEvaluations, double IterationsPerSecond);

/// <summary>Trains a <see cref="Cnf{T}"/> by maximum likelihood on batches drawn by the caller.</summary>
public static class CnfTrainer
{
    /// <summary>Runs <see cref="CnfTrainingOptions.Iterations"/> steps of Adam on the CNF loss.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="cnf">The flow; its <see cref="Cnf{T}.Parameters"/> are updated in place.</param>
    /// <param name="nextBatch">Draws a batch of the given size (B × D row-major), e.g. <c>n =&gt; Toy2D.Sample&lt;float&gt;(set, n, random)</c> with a seeded random.</param>
    /// <param name="options">The settings (null: FFJORD's defaults).</param>
    /// <param name="progress">Receives a <see cref="CnfProgress"/> every <see cref="CnfTrainingOptions.ReportEvery"/> iterations.</param>
    /// <param name="cancellationToken">Checked before each iteration.</param>
    /// <returns>The loss of every iteration.</returns>
    /// <remarks>
    /// Each iteration: zero the gradients, record the pass on one reused tape (probes from a seed derived from
    /// <see cref="CnfTrainingOptions.NoiseSeed"/> and the iteration), backward, one Adam step. With the same seeds and
    /// batches two runs give bitwise-identical losses.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="OdeSolverException">A solve failed.</exception>
    public static double[] Train<T>(Cnf<T> cnf, Func<int, T[]> nextBatch, CnfTrainingOptions? options = null, IProgress<CnfProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(cnf);
        ArgumentNullException.ThrowIfNull(nextBatch);
        options ??= new CnfTrainingOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Iterations, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.ReportEvery, nameof(options));
        if (!(options.LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(options), options.LearningRate, "The learning rate must be positive.");
        if (!(options.WeightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(options), options.WeightDecay, "The weight decay must be non-negative.");

        var sensitivity = options.Sensitivity ?? new Backprop();
        var optimizer = new Adam<T>(cnf.Parameters, options.LearningRate, weightDecay: options.WeightDecay);
        var tape = new Tape<T>();
        var losses = new double[options.Iterations];
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < options.Iterations; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var x = nextBatch(options.BatchSize);
            tape.Reset();
            cnf.Parameters.ZeroGradients();
            var pass = cnf.Forward(tape, x, unchecked(options.NoiseSeed * 1_000_003 + i), sensitivity);
            tape.Backward(pass.Loss);
            optimizer.Step();
            double loss = double.CreateTruncating(pass.Loss.Value[0]);
            losses[i] = loss;
            if (progress is not null && ((i + 1) % options.ReportEvery == 0 || i + 1 == options.Iterations))
            {
                progress.Report(new CnfProgress(i + 1, loss, double.CreateTruncating(pass.NegativeLogLikelihood.Value[0]),
                    pass.ForwardEvaluations, pass.BackwardEvaluations, (i + 1) / clock.Elapsed.TotalSeconds));
            }
        }
        return losses;
    }
}
