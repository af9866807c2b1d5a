using NeuralOde.Core.Dynamics;
using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.Examples.Training;

/// <summary>
/// A mechanistic model with K positive rates, learned as log-rates (so they stay positive and are fitted on a
/// relative scale): the subclass writes f(y) given the 1 × K row of rates.
/// </summary>
internal abstract class RateDynamics : TapeDynamics<double>
{
    private readonly Parameter<double> logRates;

    protected RateDynamics(ParameterSet<double> parameters, Parameter<double> logRates, Shape stateShape)
        : base(parameters, stateShape) => this.logRates = logRates;

    public static (ParameterSet<double> Set, Parameter<double> LogRates) CreateParameters(ReadOnlySpan<double> initialRates)
    {
        var set = new ParameterSet<double>();
        var logRates = set.Add("log_rates", new Shape(1, initialRates.Length));
        for (int i = 0; i < initialRates.Length; i++) logRates.Value[i] = Math.Log(initialRates[i]);
        return (set, logRates);
    }

    public double[] Rates => [.. logRates.Value.ToArray().Select(Math.Exp)];

    public sealed override Var<double> Record(Tape<double> tape, double t, Var<double> y) =>
        Record(y, Ops.Exp(tape.Parameter(logRates)));

    protected abstract Var<double> Record(Var<double> y, Var<double> rates);

    protected static Var<double> Column(Var<double> x, int index) => Ops.SliceColumns(x, index, 1);

    protected static Var<double> Columns(params Var<double>[] columns)
    {
        var result = columns[0];
        for (int i = 1; i < columns.Length; i++) result = Ops.ConcatColumns(result, columns[i]);
        return result;
    }
}
