using NeuralOde.Core.Dynamics;

namespace NeuralOde.Tests.Support;

/// <summary>Runs a body with row-independent dynamics split into a chosen number of row blocks (RowSplit.ForcedParts), whatever the machine's cores.</summary>
internal static class ForcedRowSplit
{
    /// <summary>The body's result, with dynamics built and first evaluated inside it split into <paramref name="parts"/> blocks.</summary>
    public static TResult With<TResult>(int parts, Func<TResult> body)
    {
        RowSplit.ForcedParts = parts;
        try
        {
            return body();
        }
        finally
        {
            RowSplit.ForcedParts = null;
        }
    }
}
