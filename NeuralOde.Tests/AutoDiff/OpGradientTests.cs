using NeuralOde.AutoDiff;
using NeuralOde.Tests.Support;

namespace NeuralOde.Tests.AutoDiff;

/// <summary>Every op's reverse-mode gradient equals central finite differences, in double, on odd shapes.</summary>
public class OpGradientTests
{
    private const int Seed = 20261128;
    private const double Tolerance = 1e-6;

    /// <summary>An op under test: how to build it, and its inputs' shapes (and value ranges) given a base shape.</summary>
    public sealed record OpCase(string Name, Func<Shape, Shape[]> Shapes, GradientCheck.TapeFunction Function, double Low = -1, double High = 1)
    {
        public override string ToString() => Name;
    }

    private static Shape[] Same(Shape s, int count) => Enumerable.Repeat(s, count).ToArray();

    public static IEnumerable<OpCase> Cases()
    {
        yield return new("Add", s => Same(s, 2), (t, v) => v[0] + v[1]);
        yield return new("Subtract", s => Same(s, 2), (t, v) => v[0] - v[1]);
        yield return new("Multiply", s => Same(s, 2), (t, v) => v[0] * v[1]);
        yield return new("Divide", s => Same(s, 2), (t, v) => v[0] / v[1], 0.5, 2);
        yield return new("Scale", s => Same(s, 1), (t, v) => Ops.Scale(v[0], -1.7));
        yield return new("AddScalar", s => Same(s, 1), (t, v) => Ops.AddScalar(v[0], 0.3));
        yield return new("Negate", s => Same(s, 1), (t, v) => -v[0]);
        yield return new("Square", s => Same(s, 1), (t, v) => Ops.Square(v[0]));
        yield return new("Sqrt", s => Same(s, 1), (t, v) => Ops.Sqrt(v[0]), 0.5, 2);
        yield return new("Exp", s => Same(s, 1), (t, v) => Ops.Exp(v[0]));
        yield return new("Log", s => Same(s, 1), (t, v) => Ops.Log(v[0]), 0.5, 2);
        yield return new("AddRow", s => [s, new Shape(1, s.Cols)], (t, v) => Ops.AddRow(v[0], v[1]));
        yield return new("MultiplyRow", s => [s, new Shape(1, s.Cols)], (t, v) => Ops.MultiplyRow(v[0], v[1]));
        yield return new("MultiplyColumn", s => [s, new Shape(s.Rows, 1)], (t, v) => Ops.MultiplyColumn(v[0], v[1]));
        yield return new("MultiplyTiled", s => [new Shape(3 * s.Rows, s.Cols), s], (t, v) => Ops.MultiplyTiled(v[0], v[1]));
        yield return new("SliceRows", s => Same(s, 1), (t, v) => Ops.SliceRows(v[0], s(v[0]).Rows / 3, s(v[0]).Rows - s(v[0]).Rows / 3));
        yield return new("BroadcastRows", s => [new Shape(1, s.Cols)], (t, v) => Ops.BroadcastRows(v[0], 5));
        yield return new("Tanh", s => Same(s, 1), (t, v) => Ops.Tanh(v[0]), -2, 2);
        yield return new("Sigmoid", s => Same(s, 1), (t, v) => Ops.Sigmoid(v[0]), -3, 3);
        yield return new("Softplus", s => Same(s, 1), (t, v) => Ops.Softplus(v[0]), -3, 3);
        yield return new("Relu", s => Same(s, 1), (t, v) => Ops.Relu(v[0]));
        yield return new("Elu", s => Same(s, 1), (t, v) => Ops.Elu(v[0]));
        yield return new("Swish", s => Same(s, 1), (t, v) => Ops.Swish(v[0]), -3, 3);
        yield return new("TanhDerivative", s => Same(s, 1), (t, v) => Ops.ActivationDerivative(Ops.Tanh(v[0]), Activation.Tanh), -2, 2);
        yield return new("SigmoidDerivative", s => Same(s, 1), (t, v) => Ops.ActivationDerivative(Ops.Sigmoid(v[0]), Activation.Sigmoid), -2, 2);
        yield return new("SoftplusDerivative", s => Same(s, 1), (t, v) => Ops.ActivationDerivative(Ops.Softplus(v[0]), Activation.Softplus), -2, 2);
        yield return new("EluDerivative", s => Same(s, 1), (t, v) => Ops.ActivationDerivative(Ops.Elu(v[0]), Activation.Elu), -2, 2);
        yield return new("MatMul", s => [s, new Shape(s.Cols, 3)], (t, v) => Ops.MatMul(v[0], v[1]));
        foreach (var activation in Enum.GetValues<Activation>())
        {
            var a = activation;
            yield return new($"Linear{a}", s => [s, new Shape(4, s.Cols), new Shape(1, 4)], (t, v) => Ops.Linear(v[0], v[1], v[2], a));
        }
        yield return new("LinearWithoutBias", s => [s, new Shape(4, s.Cols)], (t, v) => Ops.Linear(v[0], v[1], null, Activation.Tanh));
        yield return new("Sum", s => Same(s, 1), (t, v) => Ops.Sum(v[0]));
        yield return new("Mean", s => Same(s, 1), (t, v) => Ops.Mean(v[0]));
        yield return new("SumRows", s => Same(s, 1), (t, v) => Ops.SumRows(v[0]));
        yield return new("MeanRows", s => Same(s, 1), (t, v) => Ops.MeanRows(v[0]));
        yield return new("SumColumns", s => Same(s, 1), (t, v) => Ops.SumColumns(v[0]));
        yield return new("MeanColumns", s => Same(s, 1), (t, v) => Ops.MeanColumns(v[0]));
        yield return new("RowDot", s => Same(s, 2), (t, v) => Ops.RowDot(v[0], v[1]));
        yield return new("ConcatColumns", s => [s, new Shape(s.Rows, 2)], (t, v) => Ops.ConcatColumns(v[0], v[1]));
        yield return new("SliceColumns", s => Same(s, 1), (t, v) => Ops.SliceColumns(v[0], s(v[0]).Cols / 3, s(v[0]).Cols - s(v[0]).Cols / 3));
        yield return new("MeanSquaredError", s => Same(s, 2), (t, v) => Ops.MeanSquaredError(v[0], v[1]));
        yield return new("MeanAbsoluteError", s => Same(s, 2), (t, v) => Ops.MeanAbsoluteError(v[0], v[1]));
        yield return new("SoftmaxCrossEntropy", s => Same(s, 1), (t, v) => Ops.SoftmaxCrossEntropy(v[0], Labels(s(v[0]))), -3, 3);
        yield return new("SharedSubexpression", s => Same(s, 1), (t, v) => { var y = Ops.Tanh(v[0]); return y * y + y; });

        static Shape s(Var<double> v) => v.Shape;
    }

    private static int[] Labels(Shape shape) => Enumerable.Range(0, shape.Rows).Select(r => (r * 7 + 3) % shape.Cols).ToArray();

    private static readonly Shape[] BaseShapes = [new(1, 1), new(7, 13), new(33, 65)];

    [TestCaseSource(nameof(Cases))]
    public void Op_GradientMatchesCentralDifferences(OpCase op)
    {
        foreach (var baseShape in BaseShapes)
        {
            var shapes = op.Shapes(baseShape);
            var inputs = shapes.Select((s, i) => GradientCheck.Random(s.Length, Seed + i, op.Low, op.High)).ToArray();
            double error = GradientCheck.MaxRelativeError(op.Function, inputs, shapes, Seed);
            Assert.That(error, Is.LessThan(Tolerance), $"{op.Name} on base shape {baseShape}");
        }
    }
}
