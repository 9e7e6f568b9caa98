using System.Net;
using System.Text;
using DiffusionApi.IntegrationTests.TestSupport;

namespace DiffusionApi.IntegrationTests.Api;

/// <summary>
/// Nothing a client sends is silently ignored or answered in the framework's words: every JSON endpoint checks its
/// body in one place before binding (empty, null, not JSON, not UTF-8, compressed, unknown or repeated fields).
/// </summary>
public sealed class RequestBodyTests(ReadyServiceFixture fixture) : IClassFixture<ReadyServiceFixture>
{
    private HttpClient Client => fixture.Client;

    public static TheoryData<string> JsonEndpoints() => ["/v1/images/generations", "/v1/generate", "/v1/jobs", "/v1/tokenize"];

    public static TheoryData<string> GenerationEndpoints() => ["/v1/images/generations", "/v1/generate", "/v1/jobs"];

    private Task<HttpResponseMessage> PostRawAsync(string path, byte[] body, string? contentType = "application/json", string? contentEncoding = null)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null) content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        if (contentEncoding is not null) content.Headers.ContentEncoding.Add(contentEncoding);
        return Client.PostAsync(path, content);
    }

    private Task<HttpResponseMessage> PostJsonAsync(string path, string json) => PostRawAsync(path, Encoding.UTF8.GetBytes(json));

    private static async Task<string> BodyMessageAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadProblemAsync();
        var message = Assert.Single(problem.Errors()["body"]);
        Assert.Equal(message, problem.GetProperty("detail").GetString());
        Assert.DoesNotContain("Implicit body inferred", message, StringComparison.Ordinal);
        Assert.DoesNotContain("must be a JSON object", message, StringComparison.Ordinal);
        return message;
    }

    [Theory]
    [MemberData(nameof(JsonEndpoints))]
    public async Task Post_EmptyBody_Returns400SayingTheBodyIsEmpty(string path)
    {
        Assert.Contains("body is empty", await BodyMessageAsync(await PostRawAsync(path, [])), StringComparison.Ordinal);
        Assert.Contains("body is empty", await BodyMessageAsync(await PostRawAsync(path, [], contentType: null)), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(JsonEndpoints))]
    public async Task Post_NullBody_Returns400SayingTheBodyIsNull(string path)
    {
        Assert.Contains("body is null", await BodyMessageAsync(await PostJsonAsync(path, "null")), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(JsonEndpoints))]
    public async Task Post_JsonSyntaxError_Returns400NamingLineAndByte(string path)
    {
        var message = await BodyMessageAsync(await PostJsonAsync(path, "{\"prompt\": \"fox\",\n \"steps\": }"));

        Assert.StartsWith("The request body is not valid JSON: ", message, StringComparison.Ordinal);
        Assert.Contains("(line 2, byte 11)", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_JsonArray_Returns400SayingWhatWasSent()
    {
        Assert.Contains("body is a JSON array", await BodyMessageAsync(await PostJsonAsync("/v1/images/generations", "[{\"prompt\":\"fox\"}]")), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(JsonEndpoints))]
    public async Task Post_InvalidUtf8_Returns400ProblemNamingTheByte(string path)
    {
        byte[] body = [.. "{\"prompt\":\"a "u8, 0xFF, 0xFE, .. " fox\"}"u8];

        var message = await BodyMessageAsync(await PostRawAsync(path, body));

        Assert.Contains("not valid UTF-8 (byte 0xFF at offset 13)", message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(JsonEndpoints))]
    public async Task Post_CompressedBody_Returns415ProblemWithAcceptEncodingIdentity(string path)
    {
        using var gzipped = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(gzipped, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            await gzip.WriteAsync(Encoding.UTF8.GetBytes("{\"prompt\":\"fox\",\"size\":\"64x64\",\"steps\":1}"));

        var response = await PostRawAsync(path, gzipped.ToArray(), contentEncoding: "gzip");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("Content-Encoding 'gzip' is not supported", (await response.ReadProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("identity", response.Headers.GetValues("Accept-Encoding").Single());
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded", "'application/x-www-form-urlencoded'")]
    [InlineData("text/plain", "'text/plain'")]
    [InlineData(null, "none")]
    public async Task Post_BodyThatIsNotDeclaredJson_Returns415SayingToSendJson(string? contentType, string named)
    {
        var response = await PostRawAsync("/v1/images/generations", Encoding.UTF8.GetBytes("{\"prompt\":\"fox\"}"), contentType);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var detail = (await response.ReadProblemAsync()).GetProperty("detail").GetString();
        Assert.Contains("'Content-Type: application/json'", detail, StringComparison.Ordinal);
        Assert.Contains($"(Content-Type was {named})", detail, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(GenerationEndpoints))]
    public async Task Post_DuplicateKeys_Returns400NamingTheRepeatedField(string path)
    {
        var response = await PostJsonAsync(path, "{\"prompt\":\"a fox\",\"size\":\"64x64\",\"steps\":1,\"prompt\":\"a cat\"}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("prompt is given 2 times; send it once", Assert.Single((await response.ReadProblemAsync()).Errors()["prompt"]));
    }

    [Fact]
    public async Task Post_DuplicateKeysDifferingInCase_AreRepeatedToo()
    {
        var response = await PostJsonAsync("/v1/images/generations", "{\"prompt\":\"a fox\",\"size\":\"64x64\",\"Steps\":1,\"steps\":30}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("given 2 times", Assert.Single((await response.ReadProblemAsync()).Errors()["Steps"]), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(GenerationEndpoints))]
    public async Task Post_A1111Fields_Returns400NamingEachWithTheFieldToUseInstead(string path)
    {
        const string json = """
            {"prompt":"a fox","width":512,"height":768,"cfg_scale":7,"sampler_name":"Euler a","negative":"blur",
             "num_inference_steps":20,"batch_size":2,"seed":1}
            """;

        var response = await PostJsonAsync(path, json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadProblemAsync()).Errors();
        Assert.Equal(["batch_size", "cfg_scale", "height", "negative", "num_inference_steps", "sampler_name", "width"], errors.Keys.Order());
        Assert.StartsWith("width: unknown field; use size", Assert.Single(errors["width"]), StringComparison.Ordinal);
        Assert.Equal("cfg_scale: unknown field; use guidance_scale", Assert.Single(errors["cfg_scale"]));
        Assert.StartsWith("sampler_name: unknown field; use scheduler", Assert.Single(errors["sampler_name"]), StringComparison.Ordinal);
        Assert.Equal("negative: unknown field; use negative_prompt", Assert.Single(errors["negative"]));
        Assert.Equal("num_inference_steps: unknown field; use steps", Assert.Single(errors["num_inference_steps"]));
        Assert.Equal("batch_size: unknown field; use n", Assert.Single(errors["batch_size"]));
    }

    [Fact]
    public async Task Post_UnknownFieldWithoutAdvice_IsNamed_AndAMisspellingGetsTheDeclaredName()
    {
        var response = await PostJsonAsync("/v1/images/generations", "{\"promt\":\"a fox\",\"flavour\":\"sweet\"}");

        var errors = (await response.ReadProblemAsync()).Errors();
        Assert.Equal("promt: unknown field; did you mean prompt?", Assert.Single(errors["promt"]));
        Assert.Equal("flavour: unknown field", Assert.Single(errors["flavour"]));
    }

    [Fact]
    public async Task PostTokenize_UnknownField_IsNamed_WithAdviceOnlyForFieldsTokenizeTakes()
    {
        var response = await PostJsonAsync("/v1/tokenize", "{\"text\":\"a fox\",\"width\":512}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadProblemAsync()).Errors();
        Assert.Equal("text: unknown field; use prompt", Assert.Single(errors["text"]));
        Assert.Equal("width: unknown field", Assert.Single(errors["width"]));
    }

    [Fact]
    public async Task Post_UnknownAndMistypedFields_AreNamedTogether()
    {
        var response = await PostJsonAsync("/v1/images/generations", "{\"prompt\":\"a fox\",\"cfg\":7,\"steps\":\"many\"}");

        var errors = (await response.ReadProblemAsync()).Errors();
        Assert.Equal(["cfg", "steps"], errors.Keys.Order());
    }
}
