using DiffusionEngine.Pipelines;

namespace DiffusionApi.Model;

/// <summary>
/// Images that came with a request as bytes (multipart files: POST /v1/images/edits) rather than as base64 strings in
/// a JSON body, and how their mask reads. The validator checks them exactly as it checks base64 ones.
/// </summary>
/// <param name="Image">The init image's bytes as uploaded, or null when none was sent.</param>
/// <param name="Mask">The mask's bytes, or null.</param>
/// <param name="Convention">How the mask (or, without one, the image's own alpha) marks the area to repaint.</param>
public sealed record ImageUploads(byte[]? Image, byte[]? Mask, MaskConvention Convention);
