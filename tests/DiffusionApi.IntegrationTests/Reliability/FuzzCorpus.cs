using System.Text;
using System.Text.Json.Nodes;

namespace DiffusionApi.IntegrationTests.Reliability;

/// <summary>One malformed request: where it goes, its headers, its body bytes, and what kind of damage it carries.</summary>
public sealed record FuzzCase(int Number, string Kind, string Path, byte[] Body, string? ContentType, IReadOnlyList<(string Name, string Value)> Headers)
{
    public override string ToString() => $"#{Number} {Kind} → {Path}";
}

/// <summary>
/// A deterministic corpus of malformed requests (the same seed gives the same bytes on every machine): JSON syntax
/// errors, wrong types, huge values, control characters and invalid UTF-8, bad headers, nesting, duplicate keys and
/// random bytes, against every JSON endpoint. Mutations start from small valid bodies (64×64, 1 step), so a mutation
/// that happens to stay valid costs one quick generation.
/// </summary>
public static class FuzzCorpus
{
    private static readonly string[] OpenAiPaths = ["/v1/images/generations", "/v1/generate", "/v1/jobs"];
    private static readonly string[] AllPaths = [.. OpenAiPaths, "/v1/tokenize", "/sdapi/v1/txt2img"];

    private static readonly string[] OpenAiFields =
        ["prompt", "negative_prompt", "size", "steps", "seed", "n", "guidance_scale", "scheduler", "response_format", "output_format", "user", "quality", "model", "output_compression", "background", "style"];

    private static readonly string[] SdapiFields = ["prompt", "negative_prompt", "width", "height", "steps", "seed", "cfg_scale", "sampler_name", "batch_size", "n_iter"];

    /// <summary>Replacement values of every JSON type, and the edges of each.</summary>
    private static readonly string[] OddValues =
    [
        "null", "true", "false", "0", "-1", "-0", "1.5", "1e400", "-1e400", "18446744073709551616", "-9223372036854775809", "9007199254740993",
        "\"\"", "\" \"", "\"-1\"", "\"NaN\"", "\"Infinity\"", "\"64x64\\u0000\"", "\"64X64\"", "\"0x0\"", "\"99999999x99999999\"", "[]", "[1,2]", "{}",
        "{\"a\":1}", "\"\\ud800\"", "\"\\u001b[31mred\"", "\"line\\r\\nbreak\"", "1E+2", "0.0000001", "\"😀\"",
    ];

    private static readonly string[] ContentTypes =
        ["text/plain", "application/xml", "application/json; charset=latin1", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/jsonx", "*/*"];

    public static IReadOnlyList<FuzzCase> Generate(int count, int seed = 1337)
    {
        var random = new Random(seed);
        var cases = new List<FuzzCase>(count);
        for (var number = 0; number < count; number++)
        {
            var path = AllPaths[random.Next(AllPaths.Length)];
            cases.Add((number % 10) switch
            {
                0 => Truncated(number, path, random),
                1 or 2 => WrongType(number, path, random),
                3 => Huge(number, path, random),
                4 => ControlCharacters(number, path, random),
                5 => InvalidUtf8(number, path, random),
                6 => BadHeaders(number, path, random),
                7 => Structure(number, path, random),
                8 => UnknownFields(number, path, random),
                _ => RandomBytes(number, path, random),
            });
        }
        return cases;
    }

    private static JsonObject ValidBody(string path) => path.StartsWith("/sdapi", StringComparison.Ordinal)
        ? new JsonObject { ["prompt"] = "a red fox", ["width"] = 64, ["height"] = 64, ["steps"] = 1, ["seed"] = 42 }
        : path == "/v1/tokenize"
            ? new JsonObject { ["prompt"] = "a red fox" }
            : new JsonObject { ["prompt"] = "a red fox", ["size"] = "64x64", ["steps"] = 1, ["seed"] = 42 };

    private static string[] FieldsOf(string path) => path.StartsWith("/sdapi", StringComparison.Ordinal) ? SdapiFields : OpenAiFields;

    private static FuzzCase Json(int number, string kind, string path, string json, IReadOnlyList<(string, string)>? headers = null, string? contentType = "application/json") =>
        new(number, kind, path, Encoding.UTF8.GetBytes(json), contentType, headers ?? []);

    private static FuzzCase Truncated(int number, string path, Random random)
    {
        var json = ValidBody(path).ToJsonString();
        var cut = random.Next(1, json.Length - 1);
        return Json(number, "truncated json", path, json[..cut]);
    }

    private static FuzzCase WrongType(int number, string path, Random random)
    {
        // Raw JSON per field, so any text can stand in for a value.
        var fields = ValidBody(path).ToDictionary(p => p.Key, p => p.Value!.ToJsonString());
        var names = FieldsOf(path);
        for (var i = random.Next(1, 4); i > 0; i--) fields[names[random.Next(names.Length)]] = OddValues[random.Next(OddValues.Length)];
        return Json(number, "wrong type or edge value", path, "{" + string.Join(",", fields.Select(f => $"\"{f.Key}\":{f.Value}")) + "}");
    }

    private static FuzzCase Huge(int number, string path, Random random)
    {
        var body = ValidBody(path);
        switch (random.Next(4))
        {
            case 0: body["prompt"] = new string('a', random.Next(2_001, 200_000)); break;
            case 1: body["steps"] = random.Next(151, int.MaxValue); break;
            case 2: body[path.StartsWith("/sdapi", StringComparison.Ordinal) ? "width" : "size"] = path.StartsWith("/sdapi", StringComparison.Ordinal) ? JsonValue.Create(1 << 20) : "65536x65536"; break;
            default: body["n"] = random.Next(5, 1_000_000); break;
        }
        return Json(number, "huge value", path, body.ToJsonString());
    }

    private static FuzzCase ControlCharacters(int number, string path, Random random)
    {
        var body = ValidBody(path);
        var control = (char)random.Next(0, 32);
        var field = path.StartsWith("/sdapi", StringComparison.Ordinal) || path == "/v1/tokenize" ? "prompt" : new[] { "prompt", "size", "user", "scheduler" }[random.Next(4)];
        var value = field switch { "size" => "64x64", "scheduler" => "euler", _ => "a red fox" };
        body[field] = random.Next(2) == 0 ? value + control : control + value + "\u001b[2J\r\nINFO forged log line";
        return Json(number, "control characters", path, body.ToJsonString());
    }

    private static FuzzCase InvalidUtf8(int number, string path, Random random)
    {
        var json = Encoding.UTF8.GetBytes(ValidBody(path).ToJsonString());
        var at = json.AsSpan().IndexOf("fox"u8);
        byte[][] bad = [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf]];
        var insert = bad[random.Next(bad.Length)];
        var body = new byte[json.Length + insert.Length];
        json.AsSpan(0, at).CopyTo(body);
        insert.CopyTo(body, at);
        json.AsSpan(at).CopyTo(body.AsSpan(at + insert.Length));
        return new FuzzCase(number, "invalid utf-8", path, body, "application/json", []);
    }

    private static FuzzCase BadHeaders(int number, string path, Random random)
    {
        var json = ValidBody(path).ToJsonString();
        return random.Next(6) switch
        {
            0 => Json(number, "bad content-type", path, json, contentType: ContentTypes[random.Next(ContentTypes.Length)]),
            1 => Json(number, "no content-type", path, json, contentType: null),
            2 => Json(number, "undecoded content-encoding", path, json, [("Content-Encoding", new[] { "gzip", "br", "deflate", "x-unknown" }[random.Next(4)])]),
            3 => Json(number, "bad idempotency key", path, json, [("Idempotency-Key", random.Next(2) == 0 ? new string('k', 10_000) : "key\twith\ttabs")]),
            4 => Json(number, "bad authorization", path, json, [("Authorization", new[] { "Bearer", "Basic !!!", "Bearer " + new string('x', 5000), "Digest a=b" }[random.Next(4)])]),
            _ => Json(number, "odd accept", path, json, [("Accept", new[] { "image/gif", "*/*;q=abc", "text/event-stream", "" }[random.Next(4)])]),
        };
    }

    private static FuzzCase Structure(int number, string path, Random random) => random.Next(5) switch
    {
        0 => Json(number, "deep nesting", path, $"{{\"prompt\":{new string('[', 2_000)}{new string(']', 2_000)}}}"),
        1 => Json(number, "duplicate keys", path, "{\"prompt\":\"a\",\"prompt\":\"b\",\"size\":\"64x64\",\"steps\":1}"),
        2 => Json(number, "top-level array", path, "[" + ValidBody(path).ToJsonString() + "]"),
        3 => Json(number, "top-level scalar", path, new[] { "null", "42", "\"prompt\"", "true" }[random.Next(4)]),
        _ => Json(number, "trailing garbage", path, ValidBody(path).ToJsonString() + new[] { "}", ",", "{}", "x" }[random.Next(4)]),
    };

    private static FuzzCase UnknownFields(int number, string path, Random random)
    {
        var body = ValidBody(path);
        string[] foreign = ["width", "cfg_scale", "sampler_name", "__proto__", "constructor", "prompt ", "Prompt", "image", "mask", "alwayson_scripts", "$ref"];
        body[foreign[random.Next(foreign.Length)]] = random.Next(100);
        return Json(number, "unknown field", path, body.ToJsonString());
    }

    private static FuzzCase RandomBytes(int number, string path, Random random)
    {
        var body = new byte[random.Next(0, 4096)];
        random.NextBytes(body);
        return new FuzzCase(number, "random bytes", path, body, "application/json", []);
    }
}
