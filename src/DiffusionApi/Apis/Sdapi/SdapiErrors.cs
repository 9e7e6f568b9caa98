using System.Text.Json.Serialization;
using DiffusionApi.Extensions;

namespace DiffusionApi.Apis.Sdapi;

/// <summary>One entry of FastAPI's 422 body: where (<c>["body", "enable_hr"]</c>), what, and the kind of error.</summary>
public sealed record SdapiErrorItem(
    [property: JsonPropertyName("loc")] IReadOnlyList<string> Loc,
    [property: JsonPropertyName("msg")] string Msg,
    [property: JsonPropertyName("type")] string Type);

/// <summary>FastAPI's validation answer, which A1111 clients know: <c>{"detail": [{"loc", "msg", "type"}]}</c>.</summary>
public sealed record SdapiValidationError([property: JsonPropertyName("detail")] IReadOnlyList<SdapiErrorItem> Detail);

/// <summary>
/// The A1111 surface's bad fields, collected as the request is read, answered as FastAPI's 422 so that A1111 clients
/// show the message; every field at fault is named (a dotted path inside override_settings and alwayson_scripts).
/// </summary>
public sealed class SdapiErrors : IJsonBodyProblemWriter
{
    private readonly List<SdapiErrorItem> _items = [];

    public bool Any => _items.Count > 0;

    public void Add(string field, string message, string type = "value_error") =>
        _items.Add(new SdapiErrorItem(["body", .. field.Split('.')], message, type));

    /// <summary>A bad request header (FastAPI's <c>["header", name]</c>).</summary>
    public void AddHeader(string name, string message) => _items.Add(new SdapiErrorItem(["header", name], message, "value_error"));

    public IResult ToResult() => TypedResults.Json(new SdapiValidationError(_items), statusCode: StatusCodes.Status422UnprocessableEntity);

    /// <summary>Body errors found before binding (unknown, mistyped or repeated fields, a body that is not JSON) as a 422.</summary>
    Task IJsonBodyProblemWriter.WriteAsync(HttpContext context, int status, string detail, Dictionary<string, string[]>? errors)
    {
        var answer = new SdapiErrors();
        if (errors is null) answer._items.Add(new SdapiErrorItem(["body"], detail, status == StatusCodes.Status415UnsupportedMediaType ? "media_type" : "value_error"));
        else
        {
            foreach (var (field, messages) in errors)
            {
                foreach (var message in messages) answer.Add(field, message, field == "body" ? "value_error" : "extra_forbidden");
            }
        }
        return answer.ToResult().ExecuteAsync(context);
    }
}
