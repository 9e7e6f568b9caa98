using System.Text.Json;

namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>Reads RFC 9457 problem details from a response and checks its media type.</summary>
public static class Problems
{
    public static async Task<JsonElement> ReadProblemAsync(this HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement.Clone();
        Assert.Equal((int)response.StatusCode, root.GetProperty("status").GetInt32());
        return root;
    }

    public static IReadOnlyDictionary<string, string[]> Errors(this JsonElement problem) =>
        problem.GetProperty("errors").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(e => e.GetString()!).ToArray());
}
