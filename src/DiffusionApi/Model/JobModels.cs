using System.Text.Json.Serialization;
using DiffusionApi.Jobs;

namespace DiffusionApi.Model;

/// <summary>An async job's state: queued (with its place in the queue), running (with step progress), or finished.</summary>
public sealed record JobStatusResponse
{
    [JsonPropertyName("id")] public required string Id { get; init; }

    /// <summary>queued, running, succeeded, failed or cancelled.</summary>
    [JsonPropertyName("status")] public required string Status { get; init; }

    [JsonPropertyName("created")] public long Created { get; init; }

    /// <summary>1 = next to run; present while queued.</summary>
    [JsonPropertyName("queue_position")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? QueuePosition { get; init; }

    [JsonPropertyName("progress")] public required JobProgress Progress { get; init; }

    /// <summary>The images, once succeeded.</summary>
    [JsonPropertyName("data")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ImageData>? Data { get; init; }

    /// <summary>Why the job failed.</summary>
    [JsonPropertyName("error")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; init; }

    public static JobStatusResponse From(GenerationJob job, JobQueue queue, Func<string, string> urlFor)
    {
        var (step, total) = job.Progress;
        var state = job.State;
        IReadOnlyList<ImageData>? data = null;
        string? error = null;
        if (state == JobState.Succeeded && job.Completion.IsCompletedSuccessfully)
        {
            var images = job.Completion.Result.Images;
            var items = new ImageData[images.Count];
            for (var i = 0; i < items.Length; i++) items[i] = new ImageData { Url = urlFor(images[i].ImageId!), Seed = images[i].Seed };
            data = items;
        }
        else if (state == JobState.Failed)
        {
            error = job.Completion.Exception?.InnerException?.Message;
        }
        return new JobStatusResponse
        {
            Id = job.Id,
            Status = state.ToString().ToLowerInvariant(),
            Created = job.CreatedAt.ToUnixTimeSeconds(),
            QueuePosition = state == JobState.Queued ? queue.PositionOf(job) : null,
            Progress = new JobProgress(state == JobState.Succeeded ? total : step, total),
            Data = data,
            Error = error,
        };
    }
}

/// <summary>Denoising steps done of the total.</summary>
public sealed record JobProgress(
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("total_steps")] int TotalSteps);
