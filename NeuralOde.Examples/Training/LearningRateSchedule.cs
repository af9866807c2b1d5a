namespace NeuralOde.Examples.Training;

/// <summary>
/// The learning rate at each optimizer step of a run of <c>epochs × stepsPerEpoch</c> steps: it starts at
/// <c>initial</c> and, unless constant, ends at <c>final</c> on the last step (a run of one step, or of one epoch under
/// step, keeps <c>initial</c>).
/// </summary>
/// <param name="Kind">constant, cosine (half a cosine over all steps) or step (geometric, one value per epoch).</param>
/// <param name="Initial">The first step's rate.</param>
/// <param name="Final">The last step's rate (ignored when constant).</param>
/// <param name="Epochs">Epochs in the run.</param>
/// <param name="StepsPerEpoch">Optimizer steps per epoch.</param>
internal sealed record LearningRateSchedule(string Kind, double Initial, double Final, int Epochs, int StepsPerEpoch)
{
    /// <summary>The schedules by name, as the command line offers them.</summary>
    public static readonly string[] Names = ["constant", "cosine", "step"];

    /// <summary>The rate of step <paramref name="step"/> (0-based, counted over the whole run).</summary>
    public double At(int step)
    {
        int total = Epochs * StepsPerEpoch;
        switch (Kind)
        {
            case "constant":
                return Initial;
            case "cosine":
                double progress = total <= 1 ? 0 : Math.Clamp(step / (double)(total - 1), 0, 1);
                return Final + ((Initial - Final) * (1 + Math.Cos(Math.PI * progress)) / 2);
            case "step":
                double epochProgress = Epochs <= 1 ? 0 : Math.Clamp(step / StepsPerEpoch, 0, Epochs - 1) / (double)(Epochs - 1);
                return Initial * Math.Pow(Final / Initial, epochProgress);
            default:
                throw new ArgumentOutOfRangeException(nameof(Kind), Kind, $"Unknown schedule; one of {string.Join(", ", Names)}.");
        }
    }
}
