using System.Globalization;
using System.Numerics;
using System.Text.Json;
using DiffusionApi.Extensions;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.Model;

/// <summary>
/// Reads OpenAI's <c>POST /v1/images/edits</c> body (multipart/form-data: the <c>image</c> and <c>mask</c> files, and
/// text fields) into the same <see cref="ImageGenerationRequest"/> the JSON endpoints validate, plus the uploads. Masks
/// follow OpenAI's convention: the fully transparent pixels of the mask (or, without one, of the image) are the area to
/// edit. Every field not listed in <see cref="TextFields"/>, a repeated field, a value that is not a number where one is
/// needed, and a file where text belongs (or text where a file belongs) is reported, naming the field.
/// </summary>
public static class ImageEditForm
{
    /// <summary>The text fields, by their form names: OpenAI's, then this service's extensions.</summary>
    public static IReadOnlyList<string> TextFields { get; } =
    [
        "prompt", "n", "size", "response_format", "model", "user", "output_format", "output_compression", "quality", "background",
        "negative_prompt", "steps", "guidance_scale", "seed", "scheduler", "strength", "rng", "prompt_syntax", "emphasis", "clip_skip",
        "stream", "partial_images",
    ];

    /// <summary>The file fields; <c>image[]</c> is how SDKs name an image sent in a list (one is accepted).</summary>
    public static IReadOnlyList<string> FileFields { get; } = ["image", "image[]", "mask"];

    /// <summary>What the form held: the request and its uploads, or every problem by field.</summary>
    public sealed record Reading(ImageGenerationRequest? Request, ImageUploads? Uploads, Dictionary<string, string[]> Errors);

    /// <summary>Reads the form of <paramref name="request"/>, which must be multipart/form-data (the caller checked).</summary>
    public static async Task<Reading> ReadAsync(HttpRequest request, JsonFieldAdvice advice, CancellationToken cancellationToken)
    {
        var problems = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string message)
        {
            if (!problems.TryGetValue(field, out var list)) problems[field] = list = [];
            list.Add(message);
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException)
        {
            Add("body", $"the multipart/form-data body could not be read: {ControlCharacters.Escape(ex.Message)}");
            return new Reading(null, null, Errors(problems));
        }

        // Text fields: known, sent once, and not where a file belongs.
        var declared = TextFields.Concat(FileFields).ToArray();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in form)
        {
            if (FileFields.Contains(name))
            {
                Add(name, $"{name} must be a file part (filename and bytes), not a text value");
                continue;
            }
            if (!TextFields.Contains(name))
            {
                Add(name, JsonFieldAdvice.Describe(advice, name, JsonSerializer.SerializeToElement(value.ToString()), declared));
                continue;
            }
            if (value.Count != 1)
            {
                Add(name, $"{name} was sent {value.Count} times; send it once");
                continue;
            }
            values[name] = value[0] ?? "";
        }

        // Files: image (once, as image or image[]) and an optional mask.
        byte[]? image = null, mask = null;
        var images = form.Files.Where(f => f.Name is "image" or "image[]").ToArray();
        if (images.Length > 1) Add("image", $"one image can be edited per request but {images.Length} were sent");
        else if (images.Length == 1) image = await ReadFileAsync(images[0], cancellationToken);
        var masks = form.Files.GetFiles("mask");
        if (masks.Count > 1) Add("mask", $"one mask can be sent but {masks.Count} were sent");
        else if (masks.Count == 1) mask = await ReadFileAsync(masks[0], cancellationToken);
        foreach (var file in form.Files)
        {
            if (FileFields.Contains(file.Name)) continue;
            Add(file.Name, TextFields.Contains(file.Name)
                ? $"{file.Name} must be a text value, not a file part"
                : JsonFieldAdvice.Describe(advice, file.Name, JsonSerializer.SerializeToElement(file.FileName), declared));
        }
        if (image is null && images.Length == 0 && !problems.ContainsKey("image")) Add("image", "image is required: the PNG, JPEG or WebP file to edit");

        var edit = new ImageGenerationRequest
        {
            Prompt = Text("prompt"),
            N = Number<int>("n"),
            // OpenAI's "auto" is the image's own size, which is what a request without size gets.
            Size = Text("size") is { } size && size != "auto" ? size : null,
            ResponseFormat = Text("response_format"),
            Model = Text("model"),
            User = Text("user"),
            OutputFormat = Text("output_format"),
            OutputCompression = Number<int>("output_compression"),
            Quality = Text("quality"),
            Background = Text("background"),
            NegativePrompt = Text("negative_prompt"),
            Steps = Number<int>("steps"),
            GuidanceScale = Number<double>("guidance_scale"),
            Seed = Number<ulong>("seed"),
            Scheduler = Text("scheduler"),
            Strength = Number<double>("strength"),
            Rng = Text("rng"),
            PromptSyntax = Text("prompt_syntax"),
            Emphasis = Text("emphasis"),
            ClipSkip = Number<int>("clip_skip"),
            Stream = Flag("stream"),
            PartialImages = Number<int>("partial_images"),
        };
        var errors = Errors(problems);
        return errors.Count > 0
            ? new Reading(null, null, errors)
            : new Reading(edit, new ImageUploads(image, mask, MaskConvention.Transparency), errors);

        string? Text(string name) => values.GetValueOrDefault(name);

        bool? Flag(string name)
        {
            if (!values.TryGetValue(name, out var text)) return null;
            if (bool.TryParse(text, out var flag)) return flag;
            Add(name, $"{name} must be true or false but was '{ControlCharacters.Escape(text)}'");
            return null;
        }

        T? Number<T>(string name) where T : struct, INumber<T>
        {
            if (!values.TryGetValue(name, out var text)) return null;
            var whole = typeof(T) != typeof(double);
            if (T.TryParse(text, whole ? NumberStyles.AllowLeadingSign : NumberStyles.Float, CultureInfo.InvariantCulture, out var number)) return number;
            Add(name, $"{name} must be {(whole ? "a whole number" : "a number")} but was '{ControlCharacters.Escape(text)}'");
            return null;
        }
    }

    private static async Task<byte[]> ReadFileAsync(IFormFile file, CancellationToken cancellationToken)
    {
        using var copy = new MemoryStream((int)Math.Min(file.Length, int.MaxValue));
        await file.CopyToAsync(copy, cancellationToken);
        return copy.ToArray();
    }

    private static Dictionary<string, string[]> Errors(Dictionary<string, List<string>> problems) =>
        problems.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);
}
