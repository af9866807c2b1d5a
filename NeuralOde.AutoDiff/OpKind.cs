namespace NeuralOde.AutoDiff;

/// <summary>What produced a tape node; the reverse sweep dispatches on it.</summary>
internal enum OpKind : byte
{
    // Leaves.
    Constant,
    Variable,
    Parameter,

    // Elementwise (Ops/ElementwiseOps.cs).
    Add,
    Subtract,
    Multiply,
    Divide,
    Scale,
    AddScalar,
    Negate,
    Square,
    Sqrt,
    Exp,
    Log,
    AddRow,
    MultiplyRow,
    MultiplyColumn,
    MultiplyTiled,
    BroadcastRows,

    // Activations (Ops/ActivationOps.cs).
    Tanh,
    Sigmoid,
    Softplus,
    Relu,
    Elu,
    Swish,
    ActivationDerivative,

    // Matrix products (Ops/MatMulOps.cs).
    MatMul,
    Linear,

    // Reductions (Ops/ReductionOps.cs).
    Sum,
    SumRows,
    SumColumns,
    RowDot,

    // Structure (Ops/StructureOps.cs).
    ConcatColumns,
    SliceColumns,
    SliceRows,

    // Losses (Ops/LossOps.cs).
    MeanSquaredError,
    MeanAbsoluteError,
    SoftmaxCrossEntropy,

    // An op whose backward is an object (e.g. a whole ODE solve), see ICustomBackward.
    Custom,
}
