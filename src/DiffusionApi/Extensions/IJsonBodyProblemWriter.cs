namespace DiffusionApi.Extensions;

/// <summary>
/// Endpoint metadata for a surface that answers body errors in its own shape (the A1111 API: FastAPI's 422): the
/// <see cref="JsonRequestBodyMiddleware"/> runs the same checks and hands what it found to this writer instead of
/// writing problem+json.
/// </summary>
public interface IJsonBodyProblemWriter
{
    /// <param name="context">The request.</param>
    /// <param name="status">The status the check would answer (400 or 415).</param>
    /// <param name="detail">A sentence for the body as a whole.</param>
    /// <param name="errors">The bad fields by name; null when the body as a whole is the problem.</param>
    Task WriteAsync(HttpContext context, int status, string detail, Dictionary<string, string[]>? errors);
}
