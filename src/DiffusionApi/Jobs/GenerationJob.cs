using System.Diagnostics;
using DiffusionApi.Model;
using DiffusionEngine.Pipelines;

namespace DiffusionApi.Jobs;

/// <summary>
/// One client request on its way through the queue: the validated request, its engine requests (seed + i), the
/// caller's cancellation, the trace context it was made in, and a completion the caller awaits.
/// Thread-safety: state changes are atomic (Interlocked); the completion is set exactly once.
/// </summary>
public sealed class GenerationJob
{
    private readonly TaskCompletionSource<JobResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state = (int)JobState.Queued;
    private int _step;
    private int _totalSteps;

    public GenerationJob(GenerationSpec spec, bool storeImages, CancellationToken cancellationToken, TimeProvider time)
    {
        Id = "job_" + Guid.NewGuid().ToString("N");
        Spec = spec;
        Requests = spec.ToEngineRequests();
        Key = new BatchKey(spec.Model, spec.Width, spec.Height, spec.Steps, spec.Scheduler);
        StoreImages = storeImages;
        CancellationToken = cancellationToken;
        ParentContext = Activity.Current?.Context ?? default;
        TraceId = Activity.Current?.TraceId.ToString() ?? "";
        CreatedAt = time.GetUtcNow();
        CreatedTimestamp = time.GetTimestamp();
        _totalSteps = spec.Steps;
    }

    public string Id { get; }
    public GenerationSpec Spec { get; }
    public IReadOnlyList<GenerationRequest> Requests { get; }
    public int ImageCount => Requests.Count;
    public BatchKey Key { get; }

    /// <summary>Whether the images go to the image store (response_format=url, async jobs).</summary>
    public bool StoreImages { get; }

    /// <summary>Cancelled when the client gives up (disconnects, or cancels an async job).</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The request's trace context: the worker's spans for this job are its children.</summary>
    public ActivityContext ParentContext { get; }
    public string TraceId { get; }
    public DateTimeOffset CreatedAt { get; }

    /// <summary><see cref="TimeProvider.GetTimestamp"/> when the job was made; queue wait and batching delay count from it.</summary>
    public long CreatedTimestamp { get; }

    public JobState State => (JobState)Volatile.Read(ref _state);
    public (int Step, int TotalSteps) Progress => (Volatile.Read(ref _step), Volatile.Read(ref _totalSteps));
    public Task<JobResult> Completion => _completion.Task;

    /// <summary>Properties every log line about this job carries.</summary>
    public IReadOnlyList<KeyValuePair<string, object>> LogScope =>
        [new("JobId", Id), new("TraceId", TraceId)];

    /// <summary>Completes at the job's next state or progress change, or after <paramref name="timeout"/>.</summary>
    public async Task WaitForChangeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var changed = Volatile.Read(ref _changed).Task;
        try
        {
            await changed.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
    }

    internal bool TryStart() => Changed(Interlocked.CompareExchange(ref _state, (int)JobState.Running, (int)JobState.Queued) == (int)JobState.Queued);

    internal void ReportProgress(int step, int totalSteps)
    {
        Volatile.Write(ref _totalSteps, totalSteps);
        Volatile.Write(ref _step, step);
        Changed(true);
    }

    internal bool TrySucceed(JobResult result) => Changed(TryFinish(JobState.Succeeded) && _completion.TrySetResult(result));

    internal bool TryFail(Exception error) => Changed(TryFinish(JobState.Failed) && _completion.TrySetException(error));

    internal bool TryCancel() => Changed(TryFinish(JobState.Cancelled) && _completion.TrySetCanceled(CancellationToken.IsCancellationRequested ? CancellationToken : new CancellationToken(true)));

    private bool Changed(bool changed)
    {
        if (changed) Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        return changed;
    }

    private bool TryFinish(JobState final)
    {
        while (true)
        {
            var current = Volatile.Read(ref _state);
            if (current is (int)JobState.Succeeded or (int)JobState.Failed or (int)JobState.Cancelled) return false;
            if (Interlocked.CompareExchange(ref _state, (int)final, current) == current) return true;
        }
    }
}
