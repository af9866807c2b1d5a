using System.Text.RegularExpressions;

namespace NeuralOde.Tests;

/// <summary>The packages' own READMEs (PACKAGE.md, packed as README.md) stand alone on nuget.org.</summary>
public sealed partial class PackageReadmeTests
{
    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "NeuralOde.sln"))) folder = folder.Parent;
        Assert.That(folder, Is.Not.Null, "the tests run from inside the repository");
        return folder!.FullName;
    }

    [GeneratedRegex(@"\]\((?!https://)[^)]*\)")]
    private static partial Regex RelativeLink();

    [TestCase("NeuralOde.AutoDiff")]
    [TestCase("NeuralOde.Core")]
    public void PackageReadme_HasAnInstallLineAnExampleAndNoRelativeLinksOrExampleRuns(string project)
    {
        string text = File.ReadAllText(Path.Combine(RepositoryRoot(), project, "PACKAGE.md"));
        Assert.That(text, Does.Contain($"dotnet add package {project}"));
        Assert.That(text, Does.Contain("```csharp"));
        Assert.That(RelativeLink().Matches(text).Select(m => m.Value), Is.Empty, "links and images must be absolute: nuget.org cannot resolve relative ones");
        Assert.That(text, Does.Not.Contain("dotnet run"), "the package contains no examples to run");
    }
}
