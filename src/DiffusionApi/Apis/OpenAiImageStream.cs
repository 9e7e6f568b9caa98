using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using DiffusionApi.Jobs;
using DiffusionApi.Model;
using DiffusionApi.Storage;

namespace DiffusionApi.Apis;

/// <summary>
/// OpenAI's image streaming for a queued job: its live previews as partial images (the worker renders them from the
/// latents on the steps the job asked for, <see cref="GenerationSpec.Previews"/>), then each finished image. Previews
/// travel on the progress bus only, so one published before this stream subscribed is not sent: a stream may carry fewer
/// partial images than asked for, never more (as OpenAI's does when the image is done early).
/// </summary>
public static class OpenAiImageStream
{
    /// <summary>The stream's events; disposes <paramref name="job"/> and <paramref name="subscription"/> when it ends.</summary>
    /// <param name="job">The queued job (its handle cancels it when the client hangs up).</param>
    /// <param name="subscription">The job's bus events, subscribed right after it was queued.</param>
    /// <param name="prefix"><c>image_generation</c> or <c>image_edit</c>: the event type's prefix.</param>
    /// <param name="quality">The request's quality, echoed (auto when it sent none).</param>
    /// <param name="store">Where the finished images are read from.</param>
    /// <param name="time">For created_at.</param>
    /// <param name="cancellationToken">The request's: the client hung up.</param>
    public static async IAsyncEnumerable<SseItem<ImageStreamEvent>> EventsAsync(
        JobHandle job, IJobSubscription subscription, string prefix, string? quality, IImageStore store, TimeProvider time,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var _ = job;
        await using var __ = subscription;
        var spec = job.Job.Spec;
        var size = string.Create(CultureInfo.InvariantCulture, $"{spec.Width}x{spec.Height}");
        var format = spec.OutputFormat.ToString().ToLowerInvariant(); // png, jpeg, webp: OpenAI's names
        var finished = job.WaitForFinishAsync(cancellationToken);
        var index = 0;
        while (true)
        {
            // Previews until the job is final; those already on the bus when it ends still go out first.
            var next = subscription.Events.WaitToReadAsync(cancellationToken).AsTask();
            await Task.WhenAny(next, finished);
            while (subscription.Events.TryRead(out var jobEvent))
            {
                if (jobEvent is not { Kind: JobEventKind.Preview, Preview: { } preview }) continue;
                var partial = new ImageStreamEvent
                {
                    Type = prefix + ".partial_image",
                    B64Json = Convert.ToBase64String(preview),
                    CreatedAt = time.GetUtcNow().ToUnixTimeSeconds(),
                    Size = size,
                    Quality = quality ?? "auto",
                    Background = "opaque",
                    OutputFormat = format,
                    PartialImageIndex = index++,
                };
                yield return new SseItem<ImageStreamEvent>(partial, partial.Type);
            }
            if (finished.IsCompleted || !await next) break;
        }

        var final = await finished;
        if (final.State != JobState.Succeeded)
        {
            var message = final.Failure?.Message ?? $"the job was {final.State.ApiName()}";
            var error = new ImageStreamEvent { Type = "error", Error = new ImageStreamError(message, final.State == JobState.Cancelled ? "cancelled" : "server_error") };
            yield return new SseItem<ImageStreamEvent>(error, "error");
            yield break;
        }
        var images = final.Images!;
        var contents = await JobResults.ReadImagesAsync(store, final, keep: false, cancellationToken);
        for (var i = 0; i < contents.Length; i++)
        {
            var completed = new ImageStreamEvent
            {
                Type = prefix + ".completed",
                B64Json = Convert.ToBase64String(contents[i]),
                CreatedAt = time.GetUtcNow().ToUnixTimeSeconds(),
                Size = size,
                Quality = quality ?? "auto",
                Background = "opaque",
                OutputFormat = format,
                Usage = new ImageStreamUsage(0, 0, 0),
                Seed = images[i].Seed,
            };
            yield return new SseItem<ImageStreamEvent>(completed, completed.Type);
        }
    }
}
