using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionApi.IntegrationTests.Api;

/// <summary>
/// Prompts as A1111 users write them, over HTTP: POST /v1/tokenize reports the chunks with ids and weights; prompt_syntax,
/// emphasis and clip_skip are validated, reach the engine and the PNG's infotext; Limits:MaxPromptChunks and
/// Prompts:Syntax/Emphasis cross; clip skip works on an export with hidden states and is a 400 without them.
/// </summary>
public sealed class PromptsApiTests(ReadyServiceFixture fixture) : IClassFixture<ReadyServiceFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private HttpClient Client => fixture.Client;

    /// <summary>6 × 17 tokens and 5 commas: 107 tokens, two chunks.</summary>
    private static readonly string LongPrompt = string.Join(", ", Enumerable.Repeat("a watercolor painting of a lighthouse at dusk", 6));

    private static Dictionary<string, object?> Small(string prompt, params (string Field, object? Value)[] more)
    {
        var body = new Dictionary<string, object?> { ["prompt"] = prompt, ["size"] = "64x64", ["steps"] = 2, ["seed"] = 42 };
        foreach (var (field, value) in more) body[field] = value;
        return body;
    }

    [Fact]
    public async Task PostTokenize_ReportsEachChunkWithItsIdsAndWeights()
    {
        var response = await Client.PostAsJsonAsync("/v1/tokenize", new { prompt = "a (red:1.3) fox, [snow]" });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(("a1111", 1, 8, 77, false), (body.GetProperty("syntax").GetString(), body.GetProperty("chunk_count").GetInt32(),
            body.GetProperty("max_chunks").GetInt32(), body.GetProperty("window").GetInt32(), body.GetProperty("truncated").GetBoolean()));
        var chunk = body.GetProperty("chunks")[0];
        var ids = chunk.GetProperty("ids").EnumerateArray().Select(id => id.GetInt32()).ToArray();
        var weights = chunk.GetProperty("weights").EnumerateArray().Select(weight => weight.GetSingle()).ToArray();
        Assert.Equal((77, 77), (ids.Length, weights.Length));
        Assert.Equal(body.GetProperty("token_count").GetInt32(), chunk.GetProperty("token_count").GetInt32());
        Assert.Contains(1.3f, weights);
        Assert.Contains((float)(1 / 1.1), weights); // A1111 multiplies in double, then stores float32
        Assert.Equal(1f, weights[0]); // BOS
    }

    [Fact]
    public async Task PostTokenize_ALongPrompt_TakesSeveralChunks_WherePlainSyntaxCutsIt()
    {
        var a1111 = await (await Client.PostAsJsonAsync("/v1/tokenize", new { prompt = LongPrompt })).Content.ReadFromJsonAsync<JsonElement>();
        var plain = await (await Client.PostAsJsonAsync("/v1/tokenize", new { prompt = LongPrompt, prompt_syntax = "plain" })).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal((2, false), (a1111.GetProperty("chunk_count").GetInt32(), a1111.GetProperty("truncated").GetBoolean()));
        Assert.Equal(2, a1111.GetProperty("chunks").GetArrayLength());
        Assert.Equal(("plain", 1, true), (plain.GetProperty("syntax").GetString(), plain.GetProperty("chunk_count").GetInt32(), plain.GetProperty("truncated").GetBoolean()));
        Assert.Equal(107, plain.GetProperty("token_count").GetInt32()); // counted whole, though cut
    }

    [Theory]
    [InlineData("{\"prompt\":\"a fox\",\"prompt_syntax\":\"markdown\"}", "prompt_syntax", "prompt_syntax must be a1111 or plain but was 'markdown'")]
    [InlineData("{\"prompt\":\"a (fox:1.2.3)\"}", "prompt", "prompt: prompt weight \"1.2.3\" in \":1.2.3)\" is not a number")]
    public async Task PostTokenize_AnUnreadablePrompt_Returns400NamingTheField(string json, string field, string message)
    {
        var response = await Client.PostAsync("/v1/tokenize", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(message, Assert.Single((await response.ReadProblemAsync()).Errors()[field]));
    }

    [Fact]
    public async Task GetModels_ReportsTheChunkLimitAndTheClipSkipTheExportAllows()
    {
        var model = (await Client.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("data")[0];

        Assert.Equal((8, 1), (model.GetProperty("max_prompt_chunks").GetInt32(), model.GetProperty("max_clip_skip").GetInt32()));
    }

    [Fact]
    public async Task PostGenerate_AWeightedLongPrompt_Succeeds_AndTheInfotextKeepsItAndTheEmphasis()
    {
        var prompt = $"({LongPrompt}:1.1), [blurry]";

        var response = await Client.PostGenerateAsync(Small(prompt, ("emphasis", "no_norm"), ("negative_prompt", LongPrompt)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = Encoding.Latin1.GetString(await response.Content.ReadAsByteArrayAsync());
        Assert.Contains("parameters\0" + prompt + "\nNegative prompt: " + LongPrompt + "\n", text);
        Assert.Contains(", RNG: CPU, Emphasis: No norm", text);
    }

    [Theory]
    [InlineData("prompt_syntax", "\"markdown\"", "prompt_syntax must be a1111 or plain but was 'markdown'")]
    [InlineData("emphasis", "\"loud\"", "emphasis must be one of original, no_norm, ignore, comfy but was 'loud'")]
    [InlineData("clip_skip", "0", "clip_skip must be at least 1 (1 = the layer the model conditions on by default) but was 0")]
    public async Task PostGenerations_AnUnknownPromptSetting_Returns400NamingIt(string field, string value, string message)
    {
        var json = $"{{\"prompt\":\"a fox\",\"size\":\"64x64\",\"{field}\":{value}}}";

        var response = await Client.PostAsync("/v1/images/generations", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(message, Assert.Single((await response.ReadProblemAsync()).Errors()[field]));
    }

    [Fact]
    public async Task PostGenerate_ClipSkipOnAnExportWithoutHiddenStates_Returns400SayingSo()
    {
        var response = await Client.PostGenerateAsync(Small("a red fox", ("clip_skip", 2)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = Assert.Single((await response.ReadProblemAsync()).Errors()["clip_skip"]);
        Assert.StartsWith("clip_skip 2 is not available for this model: its text_encoder was exported without the 'hidden_states.N' outputs", message);
    }

    [Fact]
    public async Task PostGenerate_ClipSkipOnAnExportWithHiddenStates_ChangesTheImage_AndTheInfotextSaysSo()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?> { ["Diffusion:Model:Path"] = SharedTinyModel.WithHiddenStates });
        var client = await factory.CreateReadyClientAsync();

        var skip1 = await client.PostGenerateAsync(Small("a red fox"));
        var skip2 = await client.PostGenerateAsync(Small("a red fox", ("clip_skip", 2)));
        var skip3 = await client.PostGenerateAsync(Small("a red fox", ("clip_skip", 3)));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (skip1.StatusCode, skip2.StatusCode));
        var (png1, png2) = (await skip1.Content.ReadAsByteArrayAsync(), await skip2.Content.ReadAsByteArrayAsync());
        Assert.NotEqual(Images.DecodePixels(png1), Images.DecodePixels(png2));
        Assert.Contains(", Clip skip: 2, RNG: CPU", Encoding.Latin1.GetString(png2));
        Assert.DoesNotContain("Clip skip", Encoding.Latin1.GetString(png1));
        Assert.Equal(HttpStatusCode.BadRequest, skip3.StatusCode);
        Assert.StartsWith("clip_skip must be between 1 and 2 for this model", Assert.Single((await skip3.ReadProblemAsync()).Errors()["clip_skip"]));
        var model = (await client.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("data")[0];
        Assert.Equal(2, model.GetProperty("max_clip_skip").GetInt32());
    }

    [Fact]
    public async Task MaxPromptChunks_IsCrossedByPromptAndNegativePrompt_OnGenerationAndTokenize()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?> { ["Diffusion:Limits:MaxPromptChunks"] = "1" });
        var client = await factory.CreateReadyClientAsync();

        var generation = await client.PostGenerationsAsync(Small(LongPrompt, ("negative_prompt", LongPrompt)));
        var tokenize = await client.PostAsJsonAsync("/v1/tokenize", new { prompt = LongPrompt });
        var withinLimit = await client.PostGenerateAsync(Small("a red fox", ("negative_prompt", "blurry")));

        Assert.Equal(HttpStatusCode.BadRequest, generation.StatusCode);
        var errors = (await generation.ReadProblemAsync()).Errors();
        Assert.Equal("prompt needs 2 chunks of 75 tokens but at most 1 are allowed (MaxPromptChunks)", Assert.Single(errors["prompt"]));
        Assert.Equal("negative_prompt needs 2 chunks of 75 tokens but at most 1 are allowed (MaxPromptChunks)", Assert.Single(errors["negative_prompt"]));
        Assert.Equal(HttpStatusCode.BadRequest, tokenize.StatusCode);
        Assert.Contains("prompt", (await tokenize.ReadProblemAsync()).Errors().Keys);
        Assert.Equal(HttpStatusCode.OK, withinLimit.StatusCode);
    }

    [Fact]
    public async Task PromptsSyntaxSetting_IsWhatARequestWithoutPromptSyntaxGets()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?> { ["Diffusion:Prompts:Syntax"] = "plain" });
        var client = await factory.CreateReadyClientAsync();

        var tokenize = await (await client.PostAsJsonAsync("/v1/tokenize", new { prompt = "a (red:1.3) fox" })).Content.ReadFromJsonAsync<JsonElement>();
        var plain = await client.PostGenerateAsync(Small("a (red:1.3) fox"));
        var a1111 = await client.PostGenerateAsync(Small("a (red:1.3) fox", ("prompt_syntax", "a1111")));

        Assert.Equal("plain", tokenize.GetProperty("syntax").GetString());
        Assert.All(tokenize.GetProperty("chunks")[0].GetProperty("weights").EnumerateArray(), weight => Assert.Equal(1f, weight.GetSingle()));
        var (plainPng, a1111Png) = (await plain.Content.ReadAsByteArrayAsync(), await a1111.Content.ReadAsByteArrayAsync());
        Assert.NotEqual(Images.DecodePixels(plainPng), Images.DecodePixels(a1111Png));
        Assert.Contains(", RNG: CPU, Emphasis: None", Encoding.Latin1.GetString(plainPng)); // A1111's name for brackets read as text
    }

    [Theory]
    [InlineData("Diffusion:Prompts:Syntax", "markdown")]
    [InlineData("Diffusion:Prompts:Emphasis", "loud")]
    [InlineData("Diffusion:Limits:MaxPromptChunks", "0")]
    public void ABadPromptSetting_FailsStartNamingIt(string setting, string value)
    {
        var error = DiffusionApiFactory.StartFailure(new Dictionary<string, string?> { [setting] = value });

        Assert.Contains(setting.Split(':')[^1], error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GatheredJobsWithPromptsOfDifferentChunkCounts_EachGiveTheImageTheyGiveAlone()
    {
        await using var factory = new DiffusionApiFactory(new Dictionary<string, string?>
        {
            ["Diffusion:Batching:MaxBatchSize"] = "4",
            ["Diffusion:Batching:MaxDelayMs"] = "0",
        });
        var client = await factory.CreateReadyClientAsync();
        factory.Probe.Hold();
        var first = client.PostGenerateAsync(Small("first"));
        await factory.Probe.WaitForHeldCallAsync(Timeout);
        var queue = factory.Services.GetRequiredService<DiffusionApi.Jobs.IJobQueue>();
        var shortJob = client.PostGenerateAsync(Small("a red fox", ("seed", 7)));
        while (queue.Stats.Depth < 1) await Task.Delay(5);
        var longJob = client.PostGenerateAsync(Small(LongPrompt, ("seed", 8)));
        while (queue.Stats.Depth < 2) await Task.Delay(5);
        factory.Probe.Release();

        var together = await Task.WhenAll(first, shortJob, longJob);
        Assert.All(together, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        var shortAlone = await client.PostGenerateAsync(Small("a red fox", ("seed", 7)));
        var longAlone = await client.PostGenerateAsync(Small(LongPrompt, ("seed", 8)));

        Assert.Equal(Images.DecodePixels(await shortAlone.Content.ReadAsByteArrayAsync()), Images.DecodePixels(await together[1].Content.ReadAsByteArrayAsync()));
        Assert.Equal(Images.DecodePixels(await longAlone.Content.ReadAsByteArrayAsync()), Images.DecodePixels(await together[2].Content.ReadAsByteArrayAsync()));
    }
}
