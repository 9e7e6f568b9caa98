using System.Buffers;

namespace DiffusionApi.Storage;

/// <summary>
/// Server-generated image ids: 32 lowercase hex digits, nothing else. Checking this shape before any file-system
/// call is what keeps client-supplied text ("../x", "%2e%2e%2f", "/etc/passwd") away from the disk.
/// </summary>
public static class ImageIds
{
    public const int Length = 32;
    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    public static string NewId() => Guid.NewGuid().ToString("N");

    public static bool IsValid(string? id) =>
        id is { Length: Length } && !id.AsSpan().ContainsAnyExcept(LowerHex);
}
