using System.Text.Json;
using System.Text.Json.Serialization;
using DiffusionEngine.Imaging;

namespace DiffusionApi.Model;

/// <summary>
/// An uploaded image (init image or mask) as the client sent it: PNG, JPEG or WebP bytes that passed validation. Kept
/// encoded in the job (a few hundred KB rather than 4 bytes per pixel) and decoded by the worker that runs the job, so
/// a job stays plain data that any replica can run; its wire form (<see cref="Jobs.JobJson"/>) is a base64 string. Equal
/// when the bytes are equal, so a job descriptor keeps value equality.
/// </summary>
[JsonConverter(typeof(EncodedImageJsonConverter))]
public sealed class EncodedImage : IEquatable<EncodedImage>
{
    private readonly byte[] _bytes;

    // The pixels last decoded, held weakly: admission (validation, batch key) and a worker soon after share one decode,
    // while a job that waits long in the queue or is kept for retention does not hold 4 bytes per pixel.
    private readonly WeakReference<RgbaImage?> _decoded = new(null);

    /// <param name="bytes">The encoded image; owned by this instance from now on.</param>
    /// <param name="decoded">Its pixels when the caller decoded them already (validation), else null.</param>
    public EncodedImage(byte[] bytes, RgbaImage? decoded = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        _bytes = bytes;
        _decoded.SetTarget(decoded);
    }

    public ReadOnlySpan<byte> Bytes => _bytes;

    public int Length => _bytes.Length;

    /// <summary>The pixels (<see cref="ImageDecoder.Decode"/>), decoded again only when the last decode was collected. Callers must not change them.</summary>
    /// <exception cref="ArgumentException">The bytes are not a decodable PNG, JPEG or WebP image.</exception>
    public RgbaImage Decode()
    {
        if (_decoded.TryGetTarget(out var image) && image is not null) return image;
        image = ImageDecoder.Decode(_bytes);
        _decoded.SetTarget(image);
        return image;
    }

    public bool Equals(EncodedImage? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => obj is EncodedImage other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(_bytes.AsSpan(0, Math.Min(_bytes.Length, 256)));
        hash.Add(_bytes.Length);
        return hash.ToHashCode();
    }

    public string ToBase64() => Convert.ToBase64String(_bytes);
}

/// <summary>An <see cref="EncodedImage"/> as a base64 string.</summary>
public sealed class EncodedImageJsonConverter : JsonConverter<EncodedImage>
{
    public override EncodedImage Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new(reader.GetBytesFromBase64());

    public override void Write(Utf8JsonWriter writer, EncodedImage value, JsonSerializerOptions options) =>
        writer.WriteBase64StringValue(value.Bytes);
}
