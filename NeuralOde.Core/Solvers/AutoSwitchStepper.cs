using System.Numerics;
using NeuralOde.Core.Dynamics;

namespace NeuralOde.Core.Solvers;

/// <summary>The stepper of <see cref="AutoSwitch"/>: steps with one of its two methods and decides, between steps, which.</summary>
internal sealed class AutoSwitchStepper<T> : IStepper<T>, IStepperStatistics
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int StiffStepsToSwitch = 15, CalmStepsToForget = 6, NonStiffStepsToSwitchBack = 10;

    private readonly ExplicitRungeKutta<T> nonStiff;
    private readonly IStepper<T> stiff;
    private readonly IStepperStatistics? stiffStatistics;
    private readonly IJacobianBound? bound;
    private readonly double boundary;
    // The last attempt's start and end: the next attempt starting at its end means the loop accepted it.
    private readonly T[] lastStart, lastEnd;
    private bool haveLast, stiffMode;
    private double lastStepSize;
    private int stiffRun, calmRun, nonStiffRun;

    public AutoSwitchStepper(ExplicitRungeKutta<T> nonStiff, IStepper<T> stiff)
    {
        this.nonStiff = nonStiff;
        this.stiff = stiff;
        stiffStatistics = stiff as IStepperStatistics;
        bound = stiff as IJacobianBound;
        boundary = nonStiff.Tableau.RealStabilityBoundary;
        lastStart = new T[nonStiff.Dimension];
        lastEnd = new T[nonStiff.Dimension];
    }

    private IStepper<T> Current => stiffMode ? stiff : nonStiff;

    public int Dimension => nonStiff.Dimension;

    public int OutputDimension => nonStiff.Dimension;

    public int ControllerOrder => Current.ControllerOrder;

    public bool HasErrorEstimate => true;

    public bool TakesStartDerivative => Current.TakesStartDerivative;

    public bool ProvidesEndDerivative => Current.ProvidesEndDerivative;

    public bool HasInterpolation => Current.HasInterpolation;

    public long FunctionEvaluations
    {
        get => nonStiff.FunctionEvaluations + stiff.FunctionEvaluations;
        set
        {
            nonStiff.FunctionEvaluations = value;
            stiff.FunctionEvaluations = 0;
        }
    }

    public long JacobianEvaluations
    {
        get => stiffStatistics?.JacobianEvaluations ?? 0;
        set { if (stiffStatistics is not null) stiffStatistics.JacobianEvaluations = value; }
    }

    public long Factorizations
    {
        get => stiffStatistics?.Factorizations ?? 0;
        set { if (stiffStatistics is not null) stiffStatistics.Factorizations = value; }
    }

    public long NewtonIterations
    {
        get => stiffStatistics?.NewtonIterations ?? 0;
        set { if (stiffStatistics is not null) stiffStatistics.NewtonIterations = value; }
    }

    public long MethodSwitches { get; set; }

    public ReadOnlySpan<T> StartDerivative => Current.StartDerivative;

    public ReadOnlySpan<T> EndDerivative => Current.EndDerivative;

    public void InitializeState(IDynamics<T> f, double t0, ReadOnlySpan<T> y0, Span<T> state)
    {
        stiff.InitializeState(f, t0, y0, state);
        stiffMode = false;
        haveLast = false;
        stiffRun = calmRun = nonStiffRun = 0;
    }

    public StepOutcome Step(IDynamics<T> f, in StepInput input, ReadOnlySpan<T> y0, ReadOnlySpan<T> f0, Span<T> y1, Span<T> error)
    {
        if (haveLast && y0.SequenceEqual(lastEnd) && !y0.SequenceEqual(lastStart)) Decide();
        StepOutcome outcome = Current.Step(f, input, y0, f0, y1, error);
        y0.CopyTo(lastStart);
        y1.CopyTo(lastEnd);
        lastStepSize = input.StepSize;
        haveLast = true;
        return outcome;
    }

    public void Interpolate(ReadOnlySpan<T> y0, double h, double theta, Span<T> destination) => Current.Interpolate(y0, h, theta, destination);

    /// <summary>After an accepted step: whether the next one should use the other method.</summary>
    private void Decide()
    {
        if (!stiffMode)
        {
            double ratio = nonStiff.StiffnessRatio;
            if (ratio > 0.98)
            {
                calmRun = 0;
                if (++stiffRun >= StiffStepsToSwitch) Switch(toStiff: true);
            }
            else if (++calmRun >= CalmStepsToForget)
            {
                stiffRun = 0;
            }
            return;
        }
        double jacobianBound = bound?.JacobianNormBound ?? double.PositiveInfinity;
        if (Math.Abs(lastStepSize) * jacobianBound < 0.5 * boundary)
        {
            if (++nonStiffRun >= NonStiffStepsToSwitchBack) Switch(toStiff: false);
        }
        else
        {
            nonStiffRun = 0;
        }
    }

    private void Switch(bool toStiff)
    {
        stiffMode = toStiff;
        stiffRun = calmRun = nonStiffRun = 0;
        MethodSwitches++;
    }
}
