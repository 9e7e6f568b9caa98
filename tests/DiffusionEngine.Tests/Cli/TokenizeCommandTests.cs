using System.CommandLine;
using System.Text.Json;
using DiffusionCli.Commands;
using DiffusionEngine.Tests.TestSupport;
using DiffusionEngine.Tests.Text.Prompts;

namespace DiffusionEngine.Tests.Cli;

public sealed class TokenizeCommandTests(TinyTokenizers tokenizers) : IClassFixture<TinyTokenizers>
{
    private (int ExitCode, string Output, string Error) Run(params string[] args) => RunWith(tokenizers.EosPaddedDirectory, args);

    private static (int ExitCode, string Output, string Error) RunWith(string tokenizerDirectory, params string[] args)
    {
        var root = new RootCommand { TokenizeCommand.Create() };
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = root.Parse(["tokenize", "--tokenizer", tokenizerDirectory, .. args])
            .Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    private static string Words(string word, int count) => string.Join(' ', Enumerable.Repeat(word, count));

    [Fact]
    public void Tokenize_PrintsEachChunksIdsAndWeights()
    {
        var (exitCode, output, _) = Run("a (red:1.3) fox BREAK forest");

        Assert.Equal(0, exitCode);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(["syntax", "chunk_count", "token_count", "truncated", "chunks"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("a1111", root.GetProperty("syntax").GetString());
        Assert.Equal(2, root.GetProperty("chunk_count").GetInt32());
        Assert.False(root.GetProperty("truncated").GetBoolean());

        var expected = DiffusionEngine.Text.Prompts.PromptTokenizer.Tokenize("a (red:1.3) fox BREAK forest", tokenizers.EosPadded);
        Assert.Equal(expected.TokenCount, root.GetProperty("token_count").GetInt32());
        var chunks = root.GetProperty("chunks").EnumerateArray().ToArray();
        Assert.Equal(2, chunks.Length);
        for (var i = 0; i < chunks.Length; i++)
        {
            Assert.Equal(["token_count", "ids", "weights"], chunks[i].EnumerateObject().Select(p => p.Name));
            Assert.Equal(expected.Chunks[i].TokenCount, chunks[i].GetProperty("token_count").GetInt32());
            Assert.Equal(expected.Chunks[i].Ids.ToArray(), chunks[i].GetProperty("ids").EnumerateArray().Select(v => v.GetInt32()));
            Assert.Equal(expected.Chunks[i].Weights.ToArray(), chunks[i].GetProperty("weights").EnumerateArray().Select(v => v.GetSingle()));
        }
        Assert.Contains("1.3,", output);
    }

    [Fact]
    public void Tokenize_PlainSyntax_ReadsBracketsAsTextAndReportsTruncation()
    {
        var (exitCode, output, _) = Run("--syntax", "plain", "(" + Words("a", 100) + ")");

        Assert.Equal(0, exitCode);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("plain", json.RootElement.GetProperty("syntax").GetString());
        Assert.Equal(1, json.RootElement.GetProperty("chunk_count").GetInt32());
        Assert.True(json.RootElement.GetProperty("truncated").GetBoolean());
        Assert.Equal(102, json.RootElement.GetProperty("token_count").GetInt32());
        Assert.All(json.RootElement.GetProperty("chunks")[0].GetProperty("weights").EnumerateArray(), w => Assert.Equal(1f, w.GetSingle()));
    }

    [Fact]
    public void Tokenize_PromptBeyondMaxChunks_FailsNamingTheCountAndTheLimit()
    {
        var (exitCode, output, error) = Run("--max-chunks", "2", Words("a", 160));

        Assert.Equal(1, exitCode);
        Assert.Equal("", output);
        Assert.Contains("needs 3 chunks of 75 tokens but at most 2 are allowed", error);
    }

    [Fact]
    public void Tokenize_DefaultLimitIsEightChunks()
    {
        Assert.Equal(0, Run(Words("a", 600)).ExitCode);
        Assert.Contains("needs 9 chunks", Run(Words("a", 601)).Error);
    }

    [Fact]
    public void Tokenize_WeightThatIsNotANumber_FailsNamingIt()
    {
        var (exitCode, _, error) = Run("(a:1.2.3)");

        Assert.Equal(1, exitCode);
        Assert.Contains("\"1.2.3\"", error);
        Assert.DoesNotContain("Parameter", error);
    }

    [Theory]
    [InlineData("--syntax", "compel", "compel")]
    [InlineData("--max-chunks", "0", "--max-chunks")]
    public void Tokenize_BadOption_FailsNamingTheValue(string option, string value, string named)
    {
        var (exitCode, output, error) = Run(option, value, "a fox");

        Assert.NotEqual(0, exitCode);
        Assert.Contains(named, error);
        Assert.DoesNotContain("\"chunks\"", output);
    }

    [SharedDataFact]
    public void Tokenize_ClipVocabulary_PrintsTheRealIds()
    {
        var (exitCode, output, _) = RunWith(SharedData.PathOf("clip"), "a (red:1.3) car, BREAK cat");

        Assert.Equal(0, exitCode);
        using var json = JsonDocument.Parse(output);
        var chunks = json.RootElement.GetProperty("chunks");
        Assert.Equal([49406, 320, 736, 1615, 267, 49407], chunks[0].GetProperty("ids").EnumerateArray().Take(6).Select(v => v.GetInt32()));
        Assert.Equal([49406, 2368, 49407], chunks[1].GetProperty("ids").EnumerateArray().Take(3).Select(v => v.GetInt32()));
        Assert.Equal(1.3f, chunks[0].GetProperty("weights")[2].GetSingle());
    }
}
