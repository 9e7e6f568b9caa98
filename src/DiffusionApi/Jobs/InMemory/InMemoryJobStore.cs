namespace DiffusionApi.Jobs.InMemory;

/// <summary>
/// The single-process <see cref="IJobStore"/>: records in a dictionary under one lock (every operation is O(1) but the
/// sweep). Expiry is exact: a record past its expiry answers Gone (or NotFound) at once, and the sweep only frees the
/// memory. Also the idempotency index that <see cref="InMemoryJobQueue"/> consults on admission.
/// Concurrency: safe for any number of threads.
/// </summary>
public sealed class InMemoryJobStore(JobRetention retention, TimeProvider time) : IJobStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Record> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _byIdempotencyKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DateTimeOffset Until, string? Owner)> _goneUntil = new(StringComparer.Ordinal);

    /// <summary>
    /// Called with a job's id after its record went from Queued to a final state (a cancel, or a failure while it
    /// waited), outside the store's lock: the queue frees the job's slot at once instead of at the next lease.
    /// </summary>
    internal Action<string>? FinishedWhileQueued { get; set; }

    public ValueTask<JobLookup> GetAsync(string jobId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(Find(jobId, out var record, out var lookup) ? JobLookup.Found(record.Snapshot()) : lookup);
        }
    }

    public ValueTask<StartResult> TryStartAsync(string jobId, JobFence fence, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!Find(jobId, out var record, out _)) return ValueTask.FromResult(StartResult.Superseded);
            if (record.State.IsFinal()) return ValueTask.FromResult(StartResult.Finished);
            var takesOver = record.State == JobState.Running && record.Attempt < fence.Attempt;
            if (record.State != JobState.Queued && !takesOver) return ValueTask.FromResult(StartResult.Superseded);
            if (record.State == JobState.Queued && record.Attempt >= fence.Attempt) return ValueTask.FromResult(StartResult.Superseded);
            record.State = JobState.Running;
            record.Owner = fence.Owner;
            record.Attempt = fence.Attempt;
            record.Step = 0;
            return ValueTask.FromResult(StartResult.Started);
        }
    }

    public ValueTask<bool> TryReportProgressAsync(string jobId, JobFence fence, int step, int totalSteps, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!HeldBy(jobId, fence, out var record)) return ValueTask.FromResult(false);
            record.Step = step;
            record.TotalSteps = totalSteps;
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask<bool> TryRequeueAsync(string jobId, JobFence fence, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!HeldBy(jobId, fence, out var record)) return ValueTask.FromResult(false);
            record.State = JobState.Queued;
            record.Owner = null;
            record.Step = 0;
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask<bool> TryFinishAsync(string jobId, JobFence? fence, JobOutcome outcome, CancellationToken cancellationToken = default)
    {
        if (!outcome.State.IsFinal()) throw new ArgumentException($"the outcome must be a final state but was {outcome.State}", nameof(outcome));
        lock (_gate)
        {
            Record? record;
            var allowed = fence is { } held ? HeldBy(jobId, held, out record) : Find(jobId, out record, out _) && record.State == JobState.Queued;
            if (!allowed) return ValueTask.FromResult(false);
            Finish(record!, outcome);
        }
        if (fence is null) FinishedWhileQueued?.Invoke(jobId);
        return ValueTask.FromResult(true);
    }

    public ValueTask<CancelOutcome> RequestCancelAsync(string jobId, CancellationToken cancellationToken = default)
    {
        CancelOutcome outcome;
        lock (_gate)
        {
            if (!Find(jobId, out var record, out var lookup))
                return ValueTask.FromResult(new CancelOutcome(lookup.Presence == JobPresence.Gone ? CancelResult.Gone : CancelResult.NotFound, null));
            CancelResult result;
            if (record.State.IsFinal()) result = CancelResult.AlreadyFinished;
            else if (record.State == JobState.Queued)
            {
                record.CancelRequested = true;
                Finish(record, JobOutcome.Cancelled);
                result = CancelResult.Cancelled;
            }
            else
            {
                record.CancelRequested = true;
                result = CancelResult.Requested;
            }
            outcome = new CancelOutcome(result, record.Snapshot());
        }
        if (outcome.Result == CancelResult.Cancelled) FinishedWhileQueued?.Invoke(jobId);
        return ValueTask.FromResult(outcome);
    }

    public ValueTask<int> SweepExpiredAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var expired = 0;
        lock (_gate)
        {
            foreach (var record in _jobs.Values.Where(r => r.ExpiresAt <= now).ToList())
            {
                Expire(record);
                expired++;
            }
            foreach (var (id, _) in _goneUntil.Where(g => g.Value.Until <= now).ToList()) _goneUntil.Remove(id);
        }
        return ValueTask.FromResult(expired);
    }

    /// <summary>The job admitted earlier with <paramref name="idempotencyKey"/>, while its record is kept.</summary>
    internal string? FindByIdempotencyKey(string idempotencyKey)
    {
        lock (_gate)
        {
            return _byIdempotencyKey.TryGetValue(idempotencyKey, out var id) && Find(id, out _, out _) ? id : null;
        }
    }

    /// <summary>Creates the record of a job just admitted (Queued, attempt 0). Called by the queue, under its own lock.</summary>
    internal void Add(JobDescriptor job)
    {
        lock (_gate)
        {
            _jobs.Add(job.Id, new Record(job));
            if (job.IdempotencyKey is { } key) _byIdempotencyKey[key] = job.Id;
        }
    }

    /// <summary>
    /// Whether the job still wants a worker (not final): the queue drops waiting jobs that were cancelled or failed
    /// meanwhile. A job whose expired lease is reclaimed is still Running, and still wanted.
    /// </summary>
    internal bool IsUnfinished(string jobId)
    {
        lock (_gate)
        {
            return Find(jobId, out var record, out _) && !record.State.IsFinal();
        }
    }

    /// <summary>The live record, expiring it first when its time has come. Caller holds the lock.</summary>
    private bool Find(string jobId, out Record record, out JobLookup missing)
    {
        if (_jobs.TryGetValue(jobId, out record!))
        {
            if (record.ExpiresAt > time.GetUtcNow())
            {
                missing = default;
                return true;
            }
            Expire(record);
        }
        missing = _goneUntil.TryGetValue(jobId, out var gone) && gone.Until > time.GetUtcNow() ? JobLookup.GoneFor(gone.Owner) : JobLookup.NotFound;
        return false;
    }

    private bool HeldBy(string jobId, JobFence fence, out Record record) =>
        Find(jobId, out record, out _) && record.State == JobState.Running && record.Owner == fence.Owner && record.Attempt == fence.Attempt;

    private void Finish(Record record, JobOutcome outcome)
    {
        var now = time.GetUtcNow();
        record.State = outcome.State;
        record.Images = outcome.Images;
        record.Failure = outcome.Failure;
        record.Owner = null;
        record.FinishedAt = now;
        record.ExpiresAt = now + retention.For(record.Job.Kind);
    }

    private void Expire(Record record)
    {
        _jobs.Remove(record.Job.Id);
        if (record.Job.IdempotencyKey is { } key && _byIdempotencyKey.TryGetValue(key, out var id) && id == record.Job.Id) _byIdempotencyKey.Remove(key);
        // An async job's id was handed to a client, who may still ask: it is Gone for as long again as it was kept.
        if (record.Job.Kind == JobKind.Async) _goneUntil[record.Job.Id] = (record.ExpiresAt + retention.Async, record.Job.Owner);
    }

    private sealed class Record(JobDescriptor job)
    {
        public JobDescriptor Job { get; } = job;
        public JobState State { get; set; } = JobState.Queued;
        public int Step { get; set; }
        public int TotalSteps { get; set; } = job.TotalSteps;
        public bool CancelRequested { get; set; }
        public string? Owner { get; set; }
        public int Attempt { get; set; }
        public IReadOnlyList<JobImageRef>? Images { get; set; }
        public JobFailure? Failure { get; set; }
        public DateTimeOffset? FinishedAt { get; set; }
        public DateTimeOffset ExpiresAt { get; set; } = DateTimeOffset.MaxValue;

        public JobSnapshot Snapshot() => new(Job, State, Step, TotalSteps, CancelRequested, Owner, Attempt, Images, Failure, FinishedAt);
    }
}
