using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Extensions;

/// <summary>
/// The one place every endpoint that takes a JSON body shares, before binding: nothing a client sends is silently
/// ignored or answered with the framework's words. A declared Content-Encoding other than identity is 415 (we decode
/// none); for an endpoint with a JSON body (its <see cref="IAcceptsMetadata.RequestType"/>), a body that is empty,
/// not JSON-typed (415), not UTF-8, not JSON, not an object, or that has unknown, repeated or mistyped fields is a
/// problem naming each (see <see cref="JsonBodyCheck"/>; unknown fields get the endpoint's <see cref="JsonFieldAdvice"/>).
/// Runs after the API key and rate-limit checks, so an unauthorised caller learns nothing about the body.
/// </summary>
public static class JsonRequestBodyExtensions
{
    public static WebApplication UseJsonRequestBodies(this WebApplication app)
    {
        app.UseMiddleware<JsonRequestBodyMiddleware>();
        return app;
    }

    /// <summary>
    /// Marks an endpoint with a JSON body: its surface's advice for fields the body type does not declare, and the 400 and
    /// 415 problems the check answers, in the OpenAPI document.
    /// </summary>
    public static RouteHandlerBuilder WithJsonBody(this RouteHandlerBuilder builder, JsonFieldAdvice advice) =>
        builder.WithMetadata(advice)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
}

/// <summary>See <see cref="JsonRequestBodyExtensions"/>. The body has been buffered by <see cref="RequestBodyLimitMiddleware"/>.</summary>
public sealed class JsonRequestBodyMiddleware(
    RequestDelegate next,
    IProblemDetailsService problems,
    IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (UndecodedContentEncoding(request) is { } coding)
        {
            context.Response.Headers.AcceptEncoding = "identity";
            await WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "Unsupported Content-Encoding",
                $"Content-Encoding '{ControlCharacters.Escape(coding)}' is not supported; send the body uncompressed.", null);
            return;
        }

        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType is not { } bodyType)
        {
            await next(context);
            return;
        }

        var body = await ReadBodyAsync(request, context.RequestAborted);
        if (body.Length > 0 && !request.HasJsonContentType())
        {
            await WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type", SendJson(request), null);
            return;
        }
        var problem = JsonBodyCheck.Check(body, bodyType, json.Value.SerializerOptions, endpoint.Metadata.GetMetadata<JsonFieldAdvice>());
        if (problem is not null)
        {
            await WriteAsync(context, StatusCodes.Status400BadRequest, "The request is invalid", problem.Detail, problem.Errors);
            return;
        }
        await next(context);
    }

    /// <summary>The detail of a 415 for a body that is not declared as JSON.</summary>
    public static string SendJson(HttpRequest request)
    {
        var sent = request.ContentType is { Length: > 0 } type ? $"'{ControlCharacters.Escape(type)}'" : "none";
        return $"Send the body as JSON with 'Content-Type: application/json' (Content-Type was {sent}).";
    }

    private static string? UndecodedContentEncoding(HttpRequest request)
    {
        var declared = request.Headers.ContentEncoding.ToString().Trim();
        return declared.Length == 0 || declared.Equals("identity", StringComparison.OrdinalIgnoreCase) ? null : declared;
    }

    /// <summary>Reads the whole (already size-limited) body and leaves a rewound copy for binding.</summary>
    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength == 0) return ReadOnlyMemory<byte>.Empty;
        using var copy = new MemoryStream();
        await request.Body.CopyToAsync(copy, cancellationToken);
        var bytes = copy.ToArray();
        request.Body = new MemoryStream(bytes, writable: false);
        return bytes;
    }

    private Task WriteAsync(HttpContext context, int status, string title, string detail, Dictionary<string, string[]>? errors)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<IJsonBodyProblemWriter>() is { } writer) return writer.WriteAsync(context, status, detail, errors);
        context.Response.StatusCode = status;
        Microsoft.AspNetCore.Mvc.ProblemDetails details = errors is null
            ? new() { Title = title, Detail = detail, Status = status }
            : new HttpValidationProblemDetails(errors) { Title = title, Detail = detail, Status = status };
        return problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = details }).AsTask();
    }
}
