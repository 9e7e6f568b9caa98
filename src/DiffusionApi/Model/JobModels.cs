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

    /// <summary>
    /// In job events only, for a job created with <c>preview: true</c>: the latest live preview of its first image (base64,
    /// in its output format, an eighth of its size), on the first event after it arrived.
    /// </summary>
    [JsonPropertyName("preview")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Preview { get; init; }

    /// <summary>Why the job failed.</summary>
    [JsonPropertyName("error")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; init; }

    /// <summary>The status of <paramref name="job"/>; <paramref name="imageUrls"/> are its images' URLs once it succeeded.</summary>
    public static JobStatusResponse From(JobSnapshot job, int? queuePosition, IReadOnlyList<string>? imageUrls)
    {
        IReadOnlyList<ImageData>? data = null;
        if (job.State == JobState.Succeeded && job.Images is { } images && imageUrls is not null)
        {
            var items = new ImageData[images.Count];
            for (var i = 0; i < items.Length; i++) items[i] = new ImageData { Url = imageUrls[i], Seed = images[i].Seed };
            data = items;
        }
        return new JobStatusResponse
        {
            Id = job.Job.Id,
            Status = job.State.ApiName(),
            Created = job.Job.CreatedAt.ToUnixTimeSeconds(),
            QueuePosition = job.State == JobState.Queued ? queuePosition : null,
            Progress = new JobProgress(job.State == JobState.Succeeded ? job.TotalSteps : job.Step, job.TotalSteps),
            Data = data,
            Error = job.State == JobState.Failed ? job.Failure?.Message : null,
        };
    }
}

/// <summary>Denoising steps done of the total.</summary>
public sealed record JobProgress(
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("total_steps")] int TotalSteps);
