namespace DiffusionApi.Apis;

/// <summary>
/// The <c>Idempotency-Key</c> request header of the generation POSTs (IETF draft-ietf-httpapi-idempotency-key-header):
/// a second submission with the same key, on any replica, answers the job of the first for as long as that job is kept.
/// </summary>
public static class IdempotencyKeyHeader
{
    public const string Name = "Idempotency-Key";

    public const int MaxLength = 255;

    /// <summary>The header's value (null when absent), or an error naming the header when it is not a usable key.</summary>
    public static string? Read(HttpContext context, out string? error)
    {
        error = null;
        var values = context.Request.Headers[Name];
        if (values.Count == 0) return null;
        if (values.Count > 1) error = $"{Name} must be sent once but was sent {values.Count} times";
        else if (values[0] is not { Length: > 0 and <= MaxLength } key) error = $"{Name} must be 1 to {MaxLength} characters";
        else if (key.Any(c => c < 0x21 || c > 0x7e)) error = $"{Name} must be printable ASCII without spaces";
        else return key;
        return null;
    }
}
