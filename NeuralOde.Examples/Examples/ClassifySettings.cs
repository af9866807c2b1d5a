using System.CommandLine;
using NeuralOde.AutoDiff;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Examples.App;

namespace NeuralOde.Examples.Examples;

/// <summary>What the classify command lets a run choose; the architecture, solver, tolerances and optimizer stay fixed.</summary>
internal sealed record ClassifySettings(
    string Data,
    int Epochs,
    int Batch,
    double LearningRate,
    string Schedule,
    double FinalLearningRate,
    ISensitivity Sensitivity,
    Activation InputActivation,
    string Standardize,
    double Time);

/// <summary>The classify command's own options and their binding to <see cref="ClassifySettings"/>.</summary>
internal sealed class ClassifyOptions
{
    private readonly Option<string> data = new("--data") { Description = "Folder with the four Fashion-MNIST IDX files (.gz or plain).", DefaultValueFactory = _ => FashionMnist.DefaultFolder };
    private readonly Option<int> epochs = Options.Positive("--epochs", "Passes over the training set.", 3);
    private readonly Option<int> batch = Options.Positive("--batch", "Training batch size.", 128);
    private readonly Option<double> learningRate = Options.Positive("--lr", "Adam's learning rate at the first step.", 1e-3);
    private readonly Option<string> schedule = Options.Choice("--lr-schedule", "How the learning rate moves from --lr to --lr-final over the run: constant, cosine (half a cosine over all steps) or step (geometric, one rate per epoch).", "cosine", Training.LearningRateSchedule.Names);
    private readonly Option<double> finalLearningRate = Options.Positive("--lr-final", "The learning rate at the last step (unless --lr-schedule constant).", 1e-4);
    private readonly Option<string> sensitivity = Options.Choice("--sensitivity", "How gradients flow through the solve.", "backprop", Sensitivities.Names);
    private readonly Option<string> inputActivation = Options.Choice("--input-activation", "Activation after the input layer (ReLU, as torchdiffeq's ODE-Net ends its downsampling with one).", "relu", "identity", "relu", "tanh", "elu", "softplus");
    private readonly Option<string> standardize = Options.Choice("--standardize", "Pixel scaling: zca (whitened with the training set's covariance), global (the training set's mean and deviation), pixel (each pixel's own) or unit ([0, 1]).", "zca", FashionMnist.Scalings);
    private readonly Option<double> time = Options.Positive("--time", "The integration end T of the ODE block (it runs from 0).", 4.0);


    public void AddTo(Command command)
    {
        Option[] all = [data, epochs, batch, learningRate, schedule, finalLearningRate, sensitivity, inputActivation, standardize, time];
        foreach (var option in all) command.Options.Add(option);
    }

    public ClassifySettings Bind(ParseResult result) => new(
        result.GetValue(data)!,
        result.GetValue(epochs),
        result.GetValue(batch),
        result.GetValue(learningRate),
        result.GetValue(schedule)!,
        result.GetValue(finalLearningRate),
        Sensitivities.Create(result.GetValue(sensitivity)!),
        Enum.Parse<Activation>(result.GetValue(inputActivation)!, ignoreCase: true),
        result.GetValue(standardize)!,
        result.GetValue(time));
}
