using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;
using NeuralOde.AutoDiff.Optim;
using NeuralOde.Core;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Sensitivity;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.Sensitivity;

/// <summary>
/// A warm training iteration through an <see cref="OdeLayer"/> solve (tape reset, solve, loss, backward, Adam step)
/// allocates nothing, for every strategy, adaptive and fixed steps, interior saved times, and a batch small enough to
/// run on the calling thread or large enough to run in row blocks on the worker pool: measured on the calling thread
/// and process-wide (which sees the pool's threads too), as the tape's own warm-training-step test does.
/// </summary>
public class WarmIterationAllocationTests
{
    private const int NetworkSeed = 3;
    private const int WarmUpIterations = 4;

    /// <summary>Saved times off the fixed grid (h = 0.1), so interior outputs are interpolated, and t0 saved.</summary>
    private static readonly double[] Times = [0.0, 0.25, 0.6, 1.0];

    private static SolveOptions Adaptive => new() { Method = Tableaus.DormandPrince54, RelativeTolerance = 1e-4, AbsoluteTolerance = 1e-6 };

    private static SolveOptions FixedRk4 => new() { Method = Tableaus.RungeKutta4, StepSize = new FixedStep(0.1) };

    private static SolveOptions FixedHeun => new() { StepSize = new FixedStep(0.1) };

    private static SolveOptions Stiff(IStepperFactory stepper) => new() { Stepper = stepper, RelativeTolerance = 1e-4, AbsoluteTolerance = 1e-6 };

    private static (ISensitivity Sensitivity, SolveOptions Options) Case(string name) => name switch
    {
        "Backprop/DormandPrince54" => (new Backprop(), Adaptive),
        "Backprop/RungeKutta4" => (new Backprop(), FixedRk4),
        "Checkpointed/DormandPrince54" => (new Checkpointed(), Adaptive),
        "Checkpointed/RungeKutta4" => (new Checkpointed(), FixedRk4),
        "CheckpointedBudget3/DormandPrince54" => (new Checkpointed { Budget = 3 }, Adaptive),
        "CheckpointedBudget3/RungeKutta4" => (new Checkpointed { Budget = 3 }, FixedRk4),
        "Adjoint/DormandPrince54" => (new Adjoint(), Adaptive),
        "Adjoint/RungeKutta4" => (new Adjoint(), FixedRk4),
        "InterpolatingAdjoint/DormandPrince54" => (new Adjoint { Interpolating = true }, Adaptive),
        "InterpolatingAdjoint/RungeKutta4" => (new Adjoint { Interpolating = true }, FixedRk4),
        "Reversible/ReversibleHeun" => (new Reversible(), FixedHeun),
        "ReversibleRungeKutta/DormandPrince54" => (new ReversibleRungeKutta(), Adaptive),
        "ReversibleRungeKutta/RungeKutta4" => (new ReversibleRungeKutta(), FixedRk4),
        "Backprop/Rodas5P" => (new Backprop(), Stiff(new Rosenbrock(RosenbrockTableaus.Rodas5P))),
        "Backprop/Rosenbrock23" => (new Backprop(), Stiff(new Rosenbrock23())),
        "CheckpointedBudget3/Kvaerno5" => (new Checkpointed { Budget = 3 }, Stiff(new Esdirk(EsdirkTableaus.Kvaerno5))),
        // Both ways stiff: the backward's [a, a_θ] with a_θ (370 parameters) as a quadrature tail.
        "InterpolatingAdjoint/Rodas5P" => (new Adjoint { Interpolating = true }, Stiff(new Rosenbrock(RosenbrockTableaus.Rodas5P))),

        _ => throw new ArgumentException($"No case {name}.", nameof(name)),
    };

    private static readonly string[] CaseNames =
    [
        "Backprop/DormandPrince54", "Backprop/RungeKutta4",
        "Checkpointed/DormandPrince54", "Checkpointed/RungeKutta4",
        "CheckpointedBudget3/DormandPrince54", "CheckpointedBudget3/RungeKutta4",
        "Adjoint/DormandPrince54", "Adjoint/RungeKutta4",
        "InterpolatingAdjoint/DormandPrince54", "InterpolatingAdjoint/RungeKutta4",
        "Reversible/ReversibleHeun",
        "ReversibleRungeKutta/DormandPrince54", "ReversibleRungeKutta/RungeKutta4",
        "Backprop/Rodas5P", "Backprop/Rosenbrock23", "CheckpointedBudget3/Kvaerno5", "InterpolatingAdjoint/Rodas5P",
    ];

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (string name in CaseNames)
        {
            foreach (int batch in new[] { 16, 4096 })
            {
                foreach (bool processWide in new[] { false, true })
                    yield return new TestCaseData(name, batch, processWide).SetArgDisplayNames(name, $"{batch}x2", processWide ? "process" : "thread");
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void WarmTrainingIteration_AllocatesZeroBytes(string name, int batch, bool processWide)
    {
        var (sensitivity, options) = Case(name);
        var f = new MlpDynamics<float>(Mlp.Create<float>(2, [16, 16], 2, Activation.Tanh, TimeInput.Concat, seed: NetworkSeed), batch);
        var adam = new Adam<float>(f.Parameters, learningRate: 1e-4);
        var y0 = new float[batch * 2];
        var target = new float[Times.Length * batch * 2];
        for (int i = 0; i < y0.Length; i++) y0[i] = 0.8f * MathF.Sin(0.37f * i + 0.1f);
        for (int i = 0; i < target.Length; i++) target[i] = 0.5f * MathF.Cos(0.21f * i);
        var saveAt = SaveAt.Times(Times);
        var tape = new Tape<float>();
        // Equal copies in turn, as a loop that builds its options with 'with' each iteration passes: reused by value.
        SolveOptions[] copies = [options, options with { }, options with { }];
        int iteration = 0;
        void Iteration()
        {
            tape.Reset();
            adam.ZeroGradients();
            var solve = OdeLayer.Solve(tape, f, tape.Constant(y0, new Shape(batch, 2)), saveAt, copies[iteration++ % copies.Length], sensitivity);
            var loss = Ops.MeanSquaredError(solve.States, tape.Constant(target, solve.States.Shape));
            tape.Backward(loss);
            adam.Step();
        }
        AssertWarmIterationsAllocateNothing(Iteration, $"{name} {batch}x2", batch, processWide);
    }

    /// <summary>The same over a learnable end time (<c>OdeLayer.Solve(tape, f, y0, t0, t1, …)</c>), which t1's gradient moves every iteration.</summary>
    [TestCaseSource(nameof(Cases))]
    public void WarmTrainingIterationOverALearnableTimeSpan_AllocatesZeroBytes(string name, int batch, bool processWide)
    {
        var (sensitivity, options) = Case(name);
        var f = new MlpDynamics<float>(Mlp.Create<float>(2, [16, 16], 2, Activation.Tanh, TimeInput.Concat, seed: NetworkSeed), batch);
        var adam = new Adam<float>(f.Parameters, learningRate: 1e-4);
        var y0 = new float[batch * 2];
        for (int i = 0; i < y0.Length; i++) y0[i] = 0.8f * MathF.Sin(0.37f * i + 0.1f);
        var tape = new Tape<float>();
        float end = 1f;
        void Iteration()
        {
            tape.Reset();
            adam.ZeroGradients();
            var t1 = tape.Variable([end], Shape.Scalar);
            var solve = OdeLayer.Solve(tape, f, tape.Constant(y0, new Shape(batch, 2)), tape.Constant([0f], Shape.Scalar), t1, options, sensitivity);
            tape.Backward(Ops.Mean(Ops.Square(solve.Final)));
            end -= 1e-3f * t1.Gradient[0];
            adam.Step();
        }
        AssertWarmIterationsAllocateNothing(Iteration, $"{name} {batch}x2, learnable t1", batch, processWide);
        TestContext.Out.WriteLine($"t1 after the iterations: {end}");
    }

    /// <summary>Warms <paramref name="iteration"/> up, then measures its quietest window (this thread or process-wide) and asserts zero bytes.</summary>
    private static void AssertWarmIterationsAllocateNothing(Action iteration, string label, int batch, bool processWide)
    {
        for (int i = 0; i < WarmUpIterations; i++) iteration();
        int iterations = batch > 1000 ? 1 : 3;
        long allocated = processWide
            // A long iteration (a stiff 4096-row solve) overlaps the test host's own idle allocations in every
            // process-wide window (168 B in each of 40 at 128-bit vectors, 0 in a plain process): count the library's
            // threads, the caller and the worker pool's, instead.
            ? batch > 1000
                ? AllocationWindows.QuietestWithWorkers(() => { for (int i = 0; i < iterations; i++) iteration(); }, windows: 12)
                : AllocationWindows.QuietestProcessWide(() => { for (int i = 0; i < iterations; i++) iteration(); }, windows: 12)
            : AllocationWindows.Quietest(() => { for (int i = 0; i < iterations; i++) iteration(); }, windows: 6);
        TestContext.Out.WriteLine($"{label} {(processWide ? "process-wide" : "this thread")}: {allocated / iterations} bytes per warm iteration");
        Assert.That(allocated, Is.Zero);
    }

    /// <summary>The reused integrator is rebuilt when a per-component tolerance array is changed in place between solves.</summary>
    [TestCaseSource(nameof(ReusingStrategies))]
    public void ReusedSolve_SeesATolerancesArrayChangedInPlace(ISensitivity sensitivity)
    {
        const int batch = 16;
        var f = new MlpDynamics<float>(Mlp.Create<float>(2, [16, 16], 2, Activation.Tanh, TimeInput.Concat, seed: NetworkSeed), batch);
        var y0 = new float[batch * 2];
        for (int i = 0; i < y0.Length; i++) y0[i] = 0.8f * MathF.Sin(0.37f * i + 0.1f);
        var atol = new double[batch * 2];
        Array.Fill(atol, 1e-2);
        var options = new SolveOptions { RelativeTolerance = 1e-9, AbsoluteTolerances = atol };
        var tape = new Tape<float>();
        long Evaluations(ISensitivity s)
        {
            tape.Reset();
            return OdeLayer.Solve(tape, f, tape.Constant(y0, new Shape(batch, 2)), SaveAt.Times(Times), options, s).ForwardStats.FunctionEvaluations;
        }
        long loose = Evaluations(sensitivity);
        Array.Fill(atol, 1e-7);
        long reused = Evaluations(sensitivity);
        long fresh = Evaluations(sensitivity switch { Adjoint => new Adjoint(), Checkpointed => new Checkpointed(), _ => new Backprop() });
        Assert.That(reused, Is.EqualTo(fresh), "the reused solve runs with the new tolerances");
        Assert.That(reused, Is.GreaterThan(loose), "tighter tolerances take more evaluations");
    }

    public static IEnumerable<TestCaseData> ReusingStrategies()
    {
        yield return new TestCaseData(new Backprop()).SetArgDisplayNames("Backprop");
        yield return new TestCaseData(new Checkpointed()).SetArgDisplayNames("Checkpointed");
        yield return new TestCaseData(new Adjoint()).SetArgDisplayNames("Adjoint");
    }
}
