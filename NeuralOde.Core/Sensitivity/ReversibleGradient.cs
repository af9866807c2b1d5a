using NeuralOde.AutoDiff;
using System.Numerics;
using System.Numerics.Tensors;
using NeuralOde.Core.Dynamics;
using NeuralOde.Core.Solvers;
using NeuralOde.Core.StepSize;

namespace NeuralOde.Core.Sensitivity;

/// <summary>
/// The <see cref="Reversible"/> sensitivity: a <see cref="ReversibleHeun{T}"/> forward that keeps O(1) state, and a
/// backward that reconstructs the states step by step and applies the exact discrete vector–Jacobian product.
/// </summary>
/// <remarks>
/// Step map with the carried derivative as part of the state: (y, ŷ, f) → (y', ŷ', f') with ŷ' = 2y − ŷ + h·f,
/// f' = F(t', ŷ'), y' = y + (h/2)(f + f'); the initial state is (y0, y0, F(t0, y0)). With cotangents (ȳ', ŷ̄', f̄')
/// of the outputs, the cotangent of f' is g = f̄' + (h/2)ȳ', so ŷ̄' += J_F(t', ŷ')ᵀg and θ̄ += ∂_θF(t', ŷ')ᵀg; then
/// ȳ = ȳ' + 2ŷ̄', ŷ̄ = −ŷ̄', f̄ = h·ŷ̄' + (h/2)ȳ'. At t0, dL/dy0 = ȳ + ŷ̄ + J_F(t0, y0)ᵀf̄ (and θ̄ += ∂_θF(t0, y0)ᵀf̄).
/// One VJP per step and one at t0; one evaluation of F per step to reconstruct, plus one per saved time for dL/dt_i.
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
internal sealed class ReversibleGradient<T> : ISolveGradient<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private ReversibleHeun<T>? solver;
    private IDifferentiableDynamics<T>? dynamics;
    private ReversibleSchedule? schedule;
    private int firstSaved;
    private bool ready;
    private T[] saved = [];
    private T[] f0 = [];
    private T[] finalState = [];
    private T[] adjY = [];
    private T[] adjYHat = [];
    private T[] adjF = [];
    private T[] g = [];
    private T[] vjpY = [];
    private T[] vjpTheta = [];
    private T[] scratch = [];

    /// <summary>The y0 the last backward pass reconstructed (for tests of the reconstruction error).</summary>
    internal ReadOnlySpan<T> ReconstructedY0 => solver is null ? default : solver.State;

    /// <summary>The ŷ0 the last backward pass reconstructed (equal to y0 in exact arithmetic).</summary>
    internal ReadOnlySpan<T> ReconstructedAuxiliaryY0 => solver is null ? default : solver.AuxiliaryState;

    /// <summary>The schedule of the last forward (its step times).</summary>
    internal ReversibleSchedule? Schedule => schedule;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The options are not supported by <see cref="Reversible"/>, or an argument is invalid.</exception>
    public SolveStats Forward(IDifferentiableDynamics<T> f, ReadOnlySpan<T> y0, SaveAt saveAt, SolveOptions options, Span<T> output)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(saveAt);
        Reversible.EnsureSupported(options);
        ready = false;
        if (!ReferenceEquals(f, dynamics) || solver is null)
        {
            solver = new ReversibleHeun<T>(f);
            dynamics = f;
            Allocate(f.Dimension, f.Parameters.Length);
        }
        solver.ValidateState(y0);
        int n = f.Dimension;
        if (output.Length != saveAt.Count * n)
            throw new ArgumentException($"output has {output.Length} elements but {saveAt.Count} saved states of {n} need {saveAt.Count * n}.", nameof(output));
        schedule = ReversibleSchedule.Create(saveAt, ((FixedStep)options.StepSize).StepSize, options.MaxSteps, schedule);
        firstSaved = saveAt.FirstSavedIndex;
        SolveStats stats = solver.Forward(y0, schedule, firstSaved, output);
        if (saved.Length != output.Length) saved = new T[output.Length];
        output.CopyTo(saved);
        solver.InitialDerivative.CopyTo(f0);
        solver.FullState.CopyTo(finalState);
        ready = true;
        return stats;
    }

    /// <inheritdoc/>
    public GradientStats Backward(ReadOnlySpan<T> outputCotangent, Span<T> gradY0, Span<T> gradTheta, Span<double> gradTimes)
    {
        if (!ready || solver is null || dynamics is null || schedule is null) throw new InvalidOperationException("Backward needs a Forward that completed first.");
        int n = dynamics.Dimension;
        if (outputCotangent.Length != saved.Length) throw new ArgumentException($"outputCotangent has {outputCotangent.Length} elements, the output {saved.Length}.", nameof(outputCotangent));
        if (gradY0.Length != n) throw new ArgumentException($"gradY0 has {gradY0.Length} elements, the state {n}.", nameof(gradY0));
        if (gradTheta.Length != dynamics.Parameters.Length) throw new ArgumentException($"gradTheta has {gradTheta.Length} elements, the parameters {dynamics.Parameters.Length}.", nameof(gradTheta));
        bool timeGradients = !gradTimes.IsEmpty;
        if (timeGradients && gradTimes.Length != schedule.Times.Length) throw new ArgumentException($"gradTimes has {gradTimes.Length} elements, the times {schedule.Times.Length}.", nameof(gradTimes));

        long evaluationsBefore = solver.FunctionEvaluations;
        long vjps = 0;
        int steps = 0;
        // Restore the final state, so Backward may run more than once after one Forward.
        finalState.CopyTo(solver.FullState);
        Array.Clear(adjY);
        Array.Clear(adjYHat);
        Array.Clear(adjF);
        T two = T.One + T.One;
        int totalSteps = schedule.TotalSteps;

        for (int k = schedule.Times.Length - 2; k >= 0; k--)
        {
            double tEnd = schedule.Times[k + 1];
            int row = k + 1 - firstSaved;
            if (timeGradients) gradTimes[k + 1] = 0;
            if (row >= 0)
            {
                ReadOnlySpan<T> cotangent = outputCotangent.Slice(row * n, n);
                TensorPrimitives.Add(adjY, cotangent, adjY);
                if (timeGradients)
                {
                    solver.Evaluate(tEnd, saved.AsSpan(row * n, n), scratch, tEnd, 0, totalSteps - steps);
                    gradTimes[k + 1] = TimeGradient.Dot(cotangent, scratch);
                }
            }
            for (int j = schedule.StepCounts[k] - 1; j >= 0; j--)
            {
                double ta = schedule.StepTime(k, j), tb = schedule.StepTime(k, j + 1);
                T h = T.CreateTruncating(tb - ta);
                T half = h / two;
                // f' = F(tb, ŷ') carries the cotangent of the next step's f plus (h/2)·ȳ' from y' = y + (h/2)(f + f').
                TensorPrimitives.MultiplyAdd(adjY, half, adjF, g);
                if (NonFiniteGradientException.FirstNonFinite<T>(g) >= 0) throw NonFiniteCotangent(tb, totalSteps - steps);
                dynamics.Vjp(tb, solver.AuxiliaryState, g, vjpY, vjpTheta);
                vjps++;
                TensorPrimitives.Add(adjYHat, vjpY, adjYHat);
                TensorPrimitives.Add(gradTheta, vjpTheta, gradTheta);

                solver.StepBackward(ta, tb, totalSteps - steps - 1);
                steps++;

                for (int i = 0; i < n; i++)
                {
                    T aY = adjY[i], aYHat = adjYHat[i];
                    adjF[i] = h * aYHat + half * aY;
                    adjY[i] = aY + two * aYHat;
                    adjYHat[i] = -aYHat;
                }
            }
        }

        // (y0, ŷ0 = y0, f0 = F(t0, y0)): the reconstructed ŷ0 is where the forward evaluated f0.
        double t0 = schedule.Times[0];
        dynamics.Vjp(t0, solver.AuxiliaryState, adjF, vjpY, vjpTheta);
        vjps++;
        TensorPrimitives.Add(gradTheta, vjpTheta, gradTheta);
        for (int i = 0; i < n; i++) gradY0[i] = adjY[i] + adjYHat[i] + vjpY[i];
        if (timeGradients) gradTimes[0] = -TimeGradient.Dot(gradY0, f0);
        if (firstSaved == 0)
        {
            for (int i = 0; i < n; i++) gradY0[i] += outputCotangent[i];
        }
        return new GradientStats(solver.FunctionEvaluations - evaluationsBefore, vjps, steps, steps);
    }

    private void Allocate(int n, int parameters)
    {
        f0 = new T[n];
        finalState = new T[3 * n];
        adjY = new T[n];
        adjYHat = new T[n];
        adjF = new T[n];
        g = new T[n];
        vjpY = new T[n];
        scratch = new T[n];
        vjpTheta = new T[parameters];
    }

    /// <summary>The cotangents carried backwards became non-finite: the same exception every strategy throws for a non-finite gradient.</summary>
    private static NonFiniteGradientException NonFiniteCotangent(double t, int step) =>
        new(nameof(Reversible), null, -1, double.NaN,
            $"{nameof(Reversible)} produced a non-finite gradient in its backward pass: the cotangent of f at t = {t.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} (step {step}) is not finite, so every earlier dL/dθ would be too.");
}
