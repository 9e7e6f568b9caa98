using System.Text.RegularExpressions;
using DiffusionApi.Extensions;
using DiffusionApi.Options;
using DiffusionEngine.Imaging;

namespace DiffusionApi.Model;

/// <summary>
/// Reads an uploaded image (init image or mask) within the limits: base64 or a <c>data:</c> URL from a JSON body, or
/// bytes from a multipart file; at most Limits:MaxImageBytes encoded; a PNG, JPEG or WebP whose header declares at most
/// Limits:MaxImagePixels pixels (checked before any pixel is decoded: a small file can declare a huge image). Each
/// problem is reported under the field's name, as the client sent it.
/// </summary>
public static partial class ImageInputs
{
    /// <summary>The bytes of a base64 string or data URL (<c>data:image/png;base64,…</c>), or null when it is not one (reported).</summary>
    public static byte[]? FromText(string field, string text, LimitsOptions limits, Action<string, string> add)
    {
        var payload = text.AsSpan().Trim();
        if (payload.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var match = DataUrl().Match(text.Trim());
            if (!match.Success)
            {
                add(field, $"{field} must be base64 or a base64 data URL such as data:image/png;base64,… but the data URL starts '{ControlCharacters.Escape(Head(text))}'");
                return null;
            }
            payload = payload[match.Length..];
        }
        if (payload.IsEmpty)
        {
            add(field, $"{field} is empty; send the image as base64 or a data URL, or leave {field} out");
            return null;
        }
        // Every 4 base64 characters carry 3 bytes: refuse an oversized image before decoding it.
        var estimate = (long)payload.Length / 4 * 3;
        if (estimate > limits.MaxImageBytes + 3)
        {
            add(field, $"{field} must be at most {limits.MaxImageBytes} bytes (Limits:MaxImageBytes) but was about {estimate}");
            return null;
        }
        try
        {
            return Convert.FromBase64String(payload.ToString());
        }
        catch (FormatException)
        {
            add(field, $"{field} must be base64 (RFC 4648, as Convert.ToBase64String or btoa write it) or a base64 data URL, but it is not valid base64");
            return null;
        }
    }

    /// <summary>The decoded pixels of <paramref name="bytes"/>, or null when they are too many bytes or pixels or not an image (reported).</summary>
    public static RgbaImage? Decode(string field, byte[] bytes, LimitsOptions limits, Action<string, string> add)
    {
        if (bytes.Length == 0)
        {
            add(field, $"{field} is empty; send a PNG, JPEG or WebP image");
            return null;
        }
        if (bytes.Length > limits.MaxImageBytes)
        {
            add(field, $"{field} must be at most {limits.MaxImageBytes} bytes (Limits:MaxImageBytes) but was {bytes.Length}");
            return null;
        }
        try
        {
            var header = ImageDecoder.ReadHeader(bytes);
            var pixels = (long)header.Width * header.Height;
            if (pixels > limits.MaxImagePixels)
            {
                add(field, $"{field} must have at most {limits.MaxImagePixels} pixels (Limits:MaxImagePixels) but is {header.Width}x{header.Height} = {pixels}");
                return null;
            }
            return ImageDecoder.Decode(bytes, limits.MaxImagePixels);
        }
        catch (ArgumentException ex)
        {
            add(field, $"{field} could not be read: {WithoutParameter(ex)}");
            return null;
        }
    }

    /// <summary>
    /// The size an image request gets without <c>size</c>: the image's own, scaled down (keeping its aspect ratio) only as
    /// far as Limits:MaxWidth, MaxHeight and MaxPixels require, each side rounded down to a multiple of 8.
    /// </summary>
    public static (int Width, int Height) DefaultSize(RgbaImage image, LimitsOptions limits)
    {
        double scale = Math.Min(1.0, Math.Min((double)limits.MaxWidth / image.Width, (double)limits.MaxHeight / image.Height));
        var pixels = (double)image.Width * image.Height * scale * scale;
        if (pixels > limits.MaxPixels) scale *= Math.Sqrt(limits.MaxPixels / pixels);
        var width = (int)Math.Floor(image.Width * scale) / 8 * 8;
        var height = (int)Math.Floor(image.Height * scale) / 8 * 8;
        return (width, height);
    }

    private static string Head(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static string WithoutParameter(ArgumentException ex)
    {
        var suffix = $" (Parameter '{ex.ParamName}')";
        return ex.ParamName is not null && ex.Message.EndsWith(suffix, StringComparison.Ordinal) ? ex.Message[..^suffix.Length] : ex.Message;
    }

    // data:[<media type>][;param=value]*;base64,
    [GeneratedRegex(@"^data:[a-z0-9.+/-]*(;[a-z0-9=._+-]+)*;base64,", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DataUrl();
}
