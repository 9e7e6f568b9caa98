using System.Security.Cryptography;
using System.Text;
using DiffusionApi.Options;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Extensions;

/// <summary>
/// Who owns a job: with API keys configured, the key that created it, kept as a hash (never the key itself: the
/// descriptor travels through a shared store). Another key's request for the job is answered 404, as if it did not
/// exist. Without keys nobody owns anything (null).
/// </summary>
public static class JobOwners
{
    /// <summary>The owner hash of the key on <paramref name="http"/>, or null when the service takes no keys.</summary>
    public static string? Of(HttpContext http)
    {
        var options = http.RequestServices.GetRequiredService<IOptions<DiffusionOptions>>().Value;
        if (!options.RequiresApiKey) return null;
        var authorization = http.Request.Headers.Authorization.ToString();
        var key = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : http.Request.Headers["X-Api-Key"].ToString();
        // A domain prefix, so the owner hash is not the hash other parts of the service derive from the key.
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("diffusion-job-owner:" + key)))[..32];
    }

    /// <summary>Whether the caller may see a job owned by <paramref name="owner"/> (null: nobody owns it).</summary>
    public static bool MaySee(HttpContext http, string? owner) => owner is null || owner == Of(http);
}
