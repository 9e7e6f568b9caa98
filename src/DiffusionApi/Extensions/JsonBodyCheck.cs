using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;

namespace DiffusionApi.Extensions;

/// <summary>Why a JSON request body cannot be bound: one message per bad field, or one for the body as a whole ("body").</summary>
/// <param name="Detail">A sentence for the problem's detail.</param>
/// <param name="Errors">The bad fields, keyed by name as sent; "body" when the body as a whole is wrong.</param>
public sealed record JsonBodyProblem(string Detail, Dictionary<string, string[]> Errors);

/// <summary>
/// Checks a JSON request body before it is bound to the endpoint's body type, and says what is wrong in words a
/// client can act on: an empty body, invalid UTF-8, a JSON syntax error (with line and byte), <c>null</c> or another
/// non-object, and then every unknown, repeated or mistyped field (<see cref="JsonFieldErrors"/>).
/// </summary>
public static class JsonBodyCheck
{
    private const string Takes = "this endpoint takes a JSON object (see /swagger)";

    /// <summary>Null when <paramref name="body"/> binds to <paramref name="bodyType"/> field by field; else every problem found.</summary>
    /// <param name="body">The raw body bytes, UTF-8 with or without a byte order mark.</param>
    /// <param name="bodyType">The endpoint's body type.</param>
    /// <param name="options">The options the endpoint binds with.</param>
    /// <param name="advice">The surface's advice for undeclared fields; null for none.</param>
    public static JsonBodyProblem? Check(ReadOnlyMemory<byte> body, Type bodyType, JsonSerializerOptions options, JsonFieldAdvice? advice)
    {
        var bytes = body.Span.StartsWith(Encoding.UTF8.Preamble) ? body[Encoding.UTF8.Preamble.Length..] : body;
        if (bytes.Span.Trim(" \t\r\n"u8).IsEmpty) return Whole($"The request body is empty; {Takes}.");
        if (FirstInvalidUtf8(bytes.Span) is { } offset)
            return Whole($"The request body is not valid UTF-8 (byte 0x{bytes.Span[offset]:X2} at offset {offset}); send JSON encoded as UTF-8.");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = options.MaxDepth == 0 ? 64 : options.MaxDepth });
        }
        catch (JsonException ex)
        {
            return Whole($"The request body is not valid JSON: {WithoutPosition(ex.Message)} (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).");
        }
        using (document)
        {
            var root = document.RootElement;
            switch (root.ValueKind)
            {
                case JsonValueKind.Null: return Whole($"The request body is null; {Takes}.");
                case not JsonValueKind.Object: return Whole($"The request body is a JSON {root.ValueKind.ToString().ToLowerInvariant()}; {Takes}.");
            }
            var typeInfo = options.GetTypeInfo(bodyType);
            if (typeInfo.Kind != JsonTypeInfoKind.Object) return null;
            var errors = JsonFieldErrors.Find(root, typeInfo, options, advice);
            if (errors.Count == 0) return null;
            var fields = string.Join(", ", typeInfo.Properties.Select(p => p.Name));
            return new JsonBodyProblem($"See errors: every unknown, repeated or mistyped field is listed. This endpoint takes: {fields}.", errors);
        }
    }

    private static JsonBodyProblem Whole(string message) => new(message, new Dictionary<string, string[]> { ["body"] = [message] });

    private static int? FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes)) return null;
        var chars = ArrayPool<char>.Shared.Rent(bytes.Length);
        try
        {
            Utf8.ToUtf16(bytes, chars, out var read, out _, replaceInvalidSequences: false);
            return read;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    // System.Text.Json ends its messages with " LineNumber: 0 | BytePositionInLine: 10."; we say it 1-based instead.
    private static string WithoutPosition(string message)
    {
        var at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return ControlCharacters.Escape((at < 0 ? message : message[..at]).TrimEnd('.', ' '));
    }
}
