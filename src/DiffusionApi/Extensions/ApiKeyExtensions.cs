using System.Security.Cryptography;
using System.Text;
using DiffusionApi.Options;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Extensions;

/// <summary>
/// When Diffusion:ApiKeys is set, every /v1 and /sdapi request must carry one of the keys, as OpenAI clients send it
/// (<c>Authorization: Bearer KEY</c>) or as <c>X-Api-Key: KEY</c>; otherwise 401 problem+json. Probes, metrics and
/// the API description stay open so orchestrators and scrapers need no secret; so do stored images when
/// Diffusion:Storage:PublicImageUrls is on.
/// </summary>
public static class ApiKeyExtensions
{
    public static WebApplication UseApiKeys(this WebApplication app)
    {
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/v1") || http.Request.Path.StartsWithSegments("/sdapi"), branch => branch.UseMiddleware<ApiKeyMiddleware>());
        return app;
    }

    private sealed class ApiKeyMiddleware
    {
        private readonly RequestDelegate _next;
        private readonly IProblemDetailsService _problems;
        private readonly byte[][] _keyHashes;

        public ApiKeyMiddleware(RequestDelegate next, IOptions<DiffusionOptions> options, IOptions<StorageOptions> storage, IProblemDetailsService problems)
        {
            _next = next;
            _problems = problems;
            _keyHashes = options.Value.EffectiveApiKeys.Select(Hash).ToArray();
            _publicImages = storage.Value.PublicImageUrls;
        }

        private readonly bool _publicImages;

        public async Task InvokeAsync(HttpContext context)
        {
            if (_keyHashes.Length == 0 || IsAccepted(PresentedKey(context.Request)) || IsPublicImage(context.Request))
            {
                await _next(context);
                return;
            }
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"DiffusionService\"";
            await _problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status401Unauthorized,
                    Title = "Unauthorized",
                    Detail = "send an API key as 'Authorization: Bearer KEY' or 'X-Api-Key: KEY'",
                },
            });
        }

        /// <summary>GET /v1/images/{id} with Diffusion:Storage:PublicImageUrls on: the unguessable id is the secret.</summary>
        private bool IsPublicImage(HttpRequest request) =>
            _publicImages && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) && request.Path.StartsWithSegments("/v1/images", out var rest)
            && rest.Value is { Length: > 1 } id && !id[1..].Contains('/');

        private static string? PresentedKey(HttpRequest request)
        {
            var authorization = request.Headers.Authorization.ToString();
            if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return authorization["Bearer ".Length..].Trim();
            var header = request.Headers["X-Api-Key"].ToString();
            return header.Length > 0 ? header : null;
        }

        // Hashes have one length, so the comparison takes the same time whatever was sent.
        private bool IsAccepted(string? key)
        {
            if (key is null) return false;
            var presented = Hash(key);
            var accepted = false;
            foreach (var hash in _keyHashes) accepted |= CryptographicOperations.FixedTimeEquals(presented, hash);
            return accepted;
        }

        private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
    }
}
