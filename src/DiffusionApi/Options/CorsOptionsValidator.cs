using Microsoft.Extensions.Options;

namespace DiffusionApi.Options;

/// <summary>
/// Checks <see cref="CorsOptions.AllowedOrigins"/> at start: each entry is an origin exactly as a browser sends it in
/// <c>Origin</c> (an entry with a path or a trailing slash would never match), and <c>*</c> stands alone and only without
/// API keys, since any page on the web could otherwise drive a key-holding user's browser against the service.
/// </summary>
public sealed class CorsOptionsValidator(IOptions<DiffusionOptions> diffusion) : IValidateOptions<CorsOptions>
{
    private const string Setting = "Diffusion:Cors:AllowedOrigins";

    public ValidateOptionsResult Validate(string? name, CorsOptions options)
    {
        var failures = new List<string>();
        var origins = options.AllowedOrigins;
        for (var i = 0; i < origins.Length; i++)
        {
            if (origins[i] == "*")
            {
                if (origins.Length > 1) failures.Add($"{Setting} may hold '*' only as its single entry but has {origins.Length} entries");
                continue;
            }
            if (!IsOrigin(origins[i]))
                failures.Add($"{Setting}:{i} must be an origin like https://app.example.com (scheme, host and optional port; no path, no trailing slash) but was '{origins[i]}'");
        }
        if (options.AllowsAnyOrigin && diffusion.Value.RequiresApiKey)
            failures.Add($"{Setting} may be '*' only when Diffusion:ApiKeys is empty; with API keys configured, list the origins of your web frontends");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsOrigin(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.UserInfo.Length == 0 && uri.Query.Length == 0 && uri.Fragment.Length == 0
        && uri.AbsolutePath == "/" && !value.EndsWith('/')
        && string.Equals(value, uri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase);
}
