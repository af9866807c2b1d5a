using NeuralOde.AutoDiff;
using NeuralOde.AutoDiff.Nn;

namespace NeuralOde.Tests.Support;

/// <summary>Paths of the peer fixtures copied into the test output, and the expected results they hold.</summary>
public static class FixtureFiles
{
    /// <summary>The path of a peer fixture, e.g. <c>w2.json</c>, inside the test output's Data folder.</summary>
    public static string Path(string fileName) =>
        System.IO.Path.Combine(TestContext.CurrentContext.TestDirectory, "Data", "peer-fixtures", fileName);

    /// <summary>The peer's gradient of one parameter: <c>expected.&lt;mode&gt;.grads.&lt;name&gt;</c>.</summary>
    public static TensorArray<T> ExpectedGradient<T>(TensorFile file, string mode, string name)
        where T : unmanaged, System.Numerics.INumberBase<T> =>
        file.ReadTensor<T>("expected", mode, "grads", name);

    /// <summary>A scalar of the peer's results, e.g. <c>expected.backprop.loss</c>.</summary>
    public static double ExpectedScalar(TensorFile file, string mode, string key) =>
        file.Root.GetProperty("expected").GetProperty(mode).GetProperty(key).GetDouble();
}
