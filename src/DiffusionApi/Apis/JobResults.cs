using DiffusionApi.Jobs;
using DiffusionApi.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DiffusionApi.Apis;

/// <summary>
/// What an endpoint that waits for its job does with it: waits for the final record, maps anything but success to its
/// problem answer, and reads the images back from the image store. The worker may run on another replica, so the
/// images always come through the store, never handed over in memory; the same path serves both cases.
/// </summary>
public static class JobResults
{
    /// <summary>The succeeded job, or the problem to answer: the job failed or was cancelled, or the client hung up.</summary>
    public static async Task<(JobSnapshot? Succeeded, ProblemHttpResult? Problem)> AwaitAsync(HttpContext context, JobHandle job)
    {
        JobSnapshot final;
        try
        {
            final = await job.WaitForFinishAsync(context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return (null, ProblemResults.Cancelled()); // the handle has cancelled the job
        }
        return final.State == JobState.Succeeded ? (final, null) : (null, ProblemResults.ForUnfinishedJob(context, final));
    }

    /// <summary>
    /// The images' bytes, in request order. Unless <paramref name="keep"/> (the client was given URLs), each image is
    /// deleted from the store once read: its bytes go out in this answer and its id was never shown to anyone.
    /// </summary>
    /// <exception cref="InvalidOperationException">An image is missing from the store.</exception>
    public static async Task<byte[][]> ReadImagesAsync(IImageStore store, JobSnapshot job, bool keep, CancellationToken cancellationToken)
    {
        var images = job.Images ?? [];
        var contents = new byte[images.Count][];
        try
        {
            for (var i = 0; i < contents.Length; i++)
            {
                var stored = await store.OpenAsync(images[i].ImageId, cancellationToken)
                    ?? throw new InvalidOperationException($"image {images[i].ImageId} of job {job.Job.Id} is missing from the image store " +
                        "(with the Redis backend, every replica needs the same image store: S3, or one folder they all mount)");
                await using var content = stored.Content;
                // One read for a file of known length: each read of a file is a thread-pool hop on Linux.
                var length = content.CanSeek ? (int)Math.Min(content.Length, Array.MaxLength) : 0;
                using var copy = new MemoryStream(length);
                await content.CopyToAsync(copy, Math.Max(length, 81920), cancellationToken);
                contents[i] = copy.ToArray();
            }
        }
        finally
        {
            // Also when the client hung up half-way: nobody else can ask for these images.
            if (!keep)
            {
                foreach (var image in images) await store.DeleteAsync(image.ImageId, CancellationToken.None);
            }
        }
        return contents;
    }
}
