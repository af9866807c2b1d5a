namespace NeuralOde.Core.Dynamics;

/// <summary>How many diagonal blocks the Jacobian of <c>length</c> components in <c>rows</c> independent rows has: the rows, when they divide the length, else 1 (one dense block).</summary>
internal static class JacobianBlocks
{
    /// <summary>The number of diagonal blocks, each (length / blocks)².</summary>
    public static int Count(int length, int rows) => rows > 1 && length % rows == 0 ? rows : 1;
}
