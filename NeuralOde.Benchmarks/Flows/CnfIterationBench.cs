using System.Text.Json;
using BenchmarkDotNet.Attributes;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.Core.Flows;
using NeuralOde.Core.Sensitivity;

namespace NeuralOde.Benchmarks.Flows;

/// <summary>
/// One CNF training iteration of the peer's W2 (exact trace, circles, t = 10 → 0, base N(0, 0.1 I)) and W3 (Hutchinson,
/// 8 Gaussians, t = 0 → 0.5) fixed-work set-ups: zero the gradients, forward solve, loss, backward (no optimizer step).
/// </summary>
/// <remarks>
/// The fixture's weights, batch (512 × 2) and Rademacher probes; dopri5 at rtol = atol = 1e-5 in torchdiffeq's form.
/// NFE-F and NFE-B of the iteration are printed at set-up (they do not change between runs). The peer's W3 uses the
/// torchdiffeq-compatible adjoint.
/// </remarks>
[MemoryDiagnoser]
public class CnfIterationBench
{
    private readonly Tape<float> tape = new();
    private Cnf<float> cnf = null!;
    private float[] batch = [];
    private float[] probes = [];
    private ISensitivity sensitivity = null!;

    /// <summary>W2 (exact trace) or W3 (Hutchinson).</summary>
    [Params("W2-exact", "W3-hutchinson")]
    public string Workload { get; set; } = "W2-exact";

    /// <summary>How the gradient flows back through the solve.</summary>
    [Params("Backprop", "Checkpointed", "Adjoint")]
    public string Gradient { get; set; } = "Backprop";

    /// <summary>Loads the fixture and runs one warm-up iteration.</summary>
    [GlobalSetup]
    public void Setup()
    {
        bool exact = Workload == "W2-exact";
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "peer-fixtures", exact ? "w2.json" : "w3.json")));
        var arrays = doc.RootElement.GetProperty("arrays");
        float[] Read(string name) => [.. arrays.GetProperty(name).GetProperty("data").EnumerateArray().Select(x => (float)x.GetDouble())];
        var mlp = Mlp.Create<float>(2, [64, 64, 64], 2, Activation.Tanh, TimeInput.Concat, seed: 0);
        foreach (var p in mlp.Parameters.Parameters) Read(p.Name).CopyTo(p.Value);
        batch = Read("x_batch");
        probes = exact ? [] : Read("e_rademacher");
        cnf = new Cnf<float>(new MlpVelocityField<float>(mlp), exact
            ? new CnfOptions { StartTime = 10, EndTime = 0, Base = BaseDistribution.IsotropicGaussian(2, 0.1) }
            : new CnfOptions { EndTime = 0.5, TrainingDivergence = new HutchinsonDivergence(ProbeNoise.Rademacher) });
        sensitivity = Gradient switch
        {
            "Backprop" => new Backprop(),
            "Checkpointed" => new Checkpointed(),
            _ => new Adjoint { TorchdiffeqCompatible = true },
        };
        var pass = Run();
        Console.WriteLine($"// {Workload} {Gradient}: loss {pass.NegativeLogLikelihood.Value[0]:F6}, NFE-F {pass.ForwardEvaluations}, NFE-B {pass.BackwardEvaluations}");
    }

    /// <summary>One iteration: forward, loss, backward.</summary>
    /// <returns>The loss.</returns>
    [Benchmark]
    public float Iteration() => Run().NegativeLogLikelihood.Value[0];

    private CnfPass<float> Run()
    {
        tape.Reset();
        cnf.Parameters.ZeroGradients();
        var pass = probes.Length == 0 ? cnf.Forward(tape, batch, noiseSeed: 0, sensitivity) : cnf.Forward(tape, batch, probes, sensitivity);
        tape.Backward(pass.NegativeLogLikelihood);
        return pass;
    }
}
