using System.Diagnostics;
using System.Text.Json;
using DiffusionApi.Options;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Extensions;

/// <summary>
/// Every error is RFC 9457 application/problem+json: unknown routes and status-only answers through status code
/// pages, bodies that do not bind (wrong JSON type, bad JSON) as a 400 naming the field, bodies over
/// Diffusion:Limits:MaxRequestBodyBytes as 413, an unreachable job backend as 503 + Retry-After, anything unexpected as 500.
/// </summary>
public static class ProblemDetailsExtensions
{
    public static WebApplicationBuilder AddServiceProblemDetails(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            // Routing answers 415 itself when a JSON endpoint gets another Content-Type; say what to send.
            if (context.ProblemDetails.Status == StatusCodes.Status415UnsupportedMediaType && context.ProblemDetails.Detail is null)
                context.ProblemDetails.Detail = JsonRequestBodyMiddleware.SendJson(context.HttpContext.Request);
            context.ProblemDetails.Extensions["traceId"] = Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier;
            LoggingExtensions.RecordProblemReason(context.HttpContext, context.ProblemDetails);
        });
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        builder.Services.AddExceptionHandler<BackendUnavailableHandler>();
        // Binding failures throw, so the handler above can name the bad field instead of answering an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return builder;
    }

    public static WebApplication UseServiceProblemDetails(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestBodyLimitMiddleware>();
        return app;
    }

    /// <summary>
    /// Turns <see cref="BadHttpRequestException"/> (binding, JSON, size) into problem details. JSON bodies are checked
    /// before binding (<see cref="JsonRequestBodyMiddleware"/>), so this is the safety net: a body that still fails to
    /// bind is checked again to name what is wrong.
    /// </summary>
    private sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            if (exception is not BadHttpRequestException bad) return false;
            httpContext.Response.StatusCode = bad.StatusCode;
            var problem = bad.InnerException is JsonException ? await CheckBodyAsync(httpContext, cancellationToken) : null;
            Microsoft.AspNetCore.Mvc.ProblemDetails details = problem is not null
                ? new HttpValidationProblemDetails(problem.Errors) { Title = "The request is invalid", Detail = problem.Detail }
                : new Microsoft.AspNetCore.Mvc.ProblemDetails { Title = "Bad request", Detail = bad.Message };
            details.Status = bad.StatusCode;
            return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = details, Exception = exception });
        }

        /// <summary>What is wrong with the (buffered) body; null when that cannot be told.</summary>
        private static async Task<JsonBodyProblem?> CheckBodyAsync(HttpContext context, CancellationToken cancellationToken)
        {
            // The exception handler has cleared the request's endpoint; the feature keeps the one that threw.
            var endpoint = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint();
            var bodyType = endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
            var body = context.Request.Body;
            if (bodyType is null || !body.CanSeek) return null;
            body.Position = 0;
            using var copy = new MemoryStream();
            await body.CopyToAsync(copy, cancellationToken);
            var options = context.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
            return JsonBodyCheck.Check(copy.ToArray(), bodyType, options, endpoint!.Metadata.GetMetadata<JsonFieldAdvice>());
        }
    }
}

/// <summary>
/// 413 for bodies over Diffusion:Limits:MaxRequestBodyBytes, declared (Content-Length) or streamed (chunked); endpoints
/// marked <see cref="AcceptsImagesMetadata"/> allow <see cref="LimitsOptions.MaxBodyBytesWithImages"/> instead.
/// </summary>
public sealed class RequestBodyLimitMiddleware(RequestDelegate next, IOptions<LimitsOptions> limits, IProblemDetailsService problems)
{
    private readonly LimitsOptions _limits = limits.Value;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var withImages = context.GetEndpoint()?.Metadata.GetMetadata<AcceptsImagesMetadata>() is not null;
        var limit = withImages ? _limits.MaxBodyBytesWithImages : _limits.MaxRequestBodyBytes;
        // Kestrel's own limit (30 MB by default) must not answer first, in its own words, when ours is larger.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature) sizeFeature.MaxRequestBodySize = limit + 1;
        if (request.ContentLength is { } length)
        {
            if (length > limit)
            {
                await RejectAsync(context, limit, length, withImages);
                return;
            }
            // Within the limit (64 KiB by default): keep it readable again, so a body that does not bind can be
            // re-read to name every bad field.
            if (length > 0) request.EnableBuffering(bufferThreshold: (int)Math.Min(limit, 1024 * 1024), bufferLimit: limit);
        }
        else if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !HttpMethods.IsDelete(request.Method))
        {
            // Unknown length: read at most limit + 1 bytes; a larger body is rejected before anything parses it.
            var buffer = new MemoryStream();
            var chunk = new byte[8192];
            int read;
            while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > limit)
                {
                    await RejectAsync(context, limit, null, withImages);
                    return;
                }
            }
            buffer.Position = 0;
            request.Body = buffer;
        }
        await next(context);
    }

    private Task RejectAsync(HttpContext context, long limit, long? length, bool withImages)
    {
        context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        var why = withImages
            ? $" (Limits:MaxRequestBodyBytes plus two images of Limits:MaxImageBytes = {_limits.MaxImageBytes} bytes, base64-encoded)"
            : "";
        var detail = length is { } l
            ? $"the request body must be at most {limit} bytes{why} but was {l}"
            : $"the request body must be at most {limit} bytes{why}";
        return problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = StatusCodes.Status413PayloadTooLarge, Title = "Request body too large", Detail = detail },
        }).AsTask();
    }
}
