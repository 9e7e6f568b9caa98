using System.Text.RegularExpressions;

namespace DiffusionEngine.Tests.AI;

/// <summary>docs/dotnet.md shows the code of tests that run it: each sample block equals the marked region of its test.</summary>
public sealed class DotnetDocSamplesTests
{
    [Theory]
    [InlineData("in-process", "tests/DiffusionEngine.Tests/AI/DiffusionImageGeneratorTests.cs")]
    [InlineData("openai-client", "tests/DiffusionApi.IntegrationTests/Api/OpenAiImagesApiTests.cs")]
    public void DocSample_IsTheTestedCode(string sample, string testFile)
    {
        var root = RepositoryRoot();
        var doc = File.ReadAllText(Path.Combine(root, "docs", "dotnet.md"));
        var test = File.ReadAllText(Path.Combine(root, testFile));

        var shown = Regex.Match(doc, $"<!-- sample: {sample} -->\\s*```csharp\\n(.*?)\\n```", RegexOptions.Singleline);
        var tested = Regex.Match(test, $"// docs/dotnet.md sample \"{sample}\": begin\\n(.*?)\\n\\s*// docs/dotnet.md sample \"{sample}\": end", RegexOptions.Singleline);

        Assert.True(shown.Success, $"docs/dotnet.md has no sample '{sample}'");
        Assert.True(tested.Success, $"{testFile} has no region '{sample}'");
        Assert.Equal(Normalize(tested.Groups[1].Value), Normalize(shown.Groups[1].Value));
    }

    private static string[] Normalize(string code) => code.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "DiffusionService.sln"))) return folder.FullName;
        }
        throw new InvalidOperationException("DiffusionService.sln was not found above the test's output folder");
    }
}
