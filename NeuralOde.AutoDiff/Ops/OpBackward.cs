using System.Numerics;

namespace NeuralOde.AutoDiff;

/// <summary>The reverse sweep's dispatch: one switch per node to its op family's backward.</summary>
internal static class OpBackward
{
    public static void Run<T>(Tape<T> tape, int index)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (tape.Node(index).Op)
        {
            case OpKind.Add or OpKind.Subtract or OpKind.Multiply or OpKind.Divide or OpKind.Scale or OpKind.AddScalar
                or OpKind.Negate or OpKind.Square or OpKind.Sqrt or OpKind.Exp or OpKind.Log
                or OpKind.AddRow or OpKind.MultiplyRow or OpKind.MultiplyColumn or OpKind.MultiplyTiled or OpKind.BroadcastRows:
                Ops.ElementwiseBackward(tape, index);
                break;
            case OpKind.Tanh or OpKind.Sigmoid or OpKind.Softplus or OpKind.Relu or OpKind.Elu or OpKind.Swish or OpKind.ActivationDerivative:
                Ops.ActivationBackward(tape, index);
                break;
            case OpKind.MatMul or OpKind.Linear:
                Ops.MatMulBackward(tape, index);
                break;
            case OpKind.Sum or OpKind.SumRows or OpKind.SumColumns or OpKind.RowDot:
                Ops.ReductionBackward(tape, index);
                break;
            case OpKind.ConcatColumns or OpKind.SliceColumns or OpKind.SliceRows:
                Ops.StructureBackward(tape, index);
                break;
            case OpKind.MeanSquaredError or OpKind.MeanAbsoluteError or OpKind.SoftmaxCrossEntropy:
                Ops.LossBackward(tape, index);
                break;
            case OpKind.Custom:
                tape.CustomBackwardOf(index).Backward(tape, index);
                break;
            default:
                throw new InvalidOperationException($"No backward for op {tape.Node(index).Op}.");
        }
    }
}
