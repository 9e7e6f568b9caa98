namespace DiffusionApi.Jobs.InMemory;

/// <summary>
/// The single-process <see cref="IJobQueue"/>: one ordered list of waiting jobs and a table of leases, under one lock.
/// Admission never waits (a full queue answers at once). The bound counts every waiting job, including those a lease
/// passed over because they did not fit its batch; those keep their places and come first next time. A job whose
/// record became final while it waited (cancelled, failed) leaves the queue at once, so its slot is free for the next
/// request (the store tells the queue; the next lease drops any it missed). Leases expire
/// like a shared queue's do, so the contract is the same; with a live worker renewing them they never do.
/// A channel would not do here: released and reclaimed jobs go back ahead of later ones, which a channel cannot.
/// Concurrency: any number of producers and workers; waiting is O(1) to add, O(depth) to lease from or to position.
/// </summary>
public sealed class InMemoryJobQueue : IJobQueue
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Entry> _waiting = new(); // by Sequence
    private readonly Dictionary<string, Entry> _leased = new(StringComparer.Ordinal);
    private readonly InMemoryJobStore _store;
    private readonly TimeSpan _leaseDuration;
    private readonly TimeProvider _time;
    private TaskCompletionSource _changed = NewSignal();
    private long _sequence;
    private bool _stopped;
    private int _depth;
    private int _leasedCount;

    public InMemoryJobQueue(InMemoryJobStore store, int capacity, TimeSpan leaseDuration, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(leaseDuration, TimeSpan.Zero);
        _store = store;
        Capacity = capacity;
        _leaseDuration = leaseDuration;
        _time = time;
        store.FinishedWhileQueued = Withdraw;
    }

    public int Capacity { get; }

    public QueueStats Stats => new(Volatile.Read(ref _depth), Capacity, Volatile.Read(ref _leasedCount));

    public ValueTask<EnqueueOutcome> EnqueueAsync(JobDescriptor job, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_stopped) return Answer(EnqueueResult.Draining, null);
            if (job.IdempotencyKey is { } key && _store.FindByIdempotencyKey(key) is { } earlier) return Answer(EnqueueResult.Duplicate, earlier);
            if (_waiting.Count >= Capacity) return Answer(EnqueueResult.Full, null);
            _store.Add(job);
            _waiting.AddLast(new Entry(job, ++_sequence, _time.GetTimestamp()));
            Changed();
        }
        return Answer(EnqueueResult.Accepted, job.Id);
    }

    public async ValueTask<IReadOnlyList<LeasedJob>?> LeaseBatchAsync(string workerId, BatchLimits limits, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Task changed;
            TimeSpan wait;
            lock (_gate)
            {
                ReclaimExpiredLeases();
                DropFinished();
                if (FirstFor(limits.Models) is not { } head)
                {
                    if (_stopped) return null;
                    (changed, wait) = (_changed.Task, Timeout.InfiniteTimeSpan);
                }
                else
                {
                    var batch = Gather(head, limits.MaxImages, out var images);
                    var remaining = limits.MaxDelay - _time.GetElapsedTime(head.Value.ArrivedTimestamp);
                    if (images >= limits.MaxImages || remaining <= TimeSpan.Zero || _stopped) return Lease(workerId, batch);
                    (changed, wait) = (_changed.Task, remaining);
                }
                if (_leased.Count > 0)
                {
                    // Wake in time to reclaim the earliest lease that may expire meanwhile.
                    var untilExpiry = _leased.Values.Min(e => e.Deadline) - _time.GetUtcNow();
                    if (wait == Timeout.InfiniteTimeSpan || untilExpiry < wait) wait = untilExpiry > TimeSpan.Zero ? untilExpiry : TimeSpan.Zero;
                }
            }
            try
            {
                await changed.WaitAsync(wait, _time, cancellationToken);
            }
            catch (TimeoutException)
            {
                // The batching delay ran out, or a lease may have expired: look again.
            }
        }
    }

    /// <summary>The first waiting job of one of <paramref name="models"/> (null = any model).</summary>
    private LinkedListNode<Entry>? FirstFor(IReadOnlyCollection<string>? models)
    {
        for (var node = _waiting.First; node is not null; node = node.Next)
        {
            if (models is null || models.Contains(node.Value.Job.Model, StringComparer.Ordinal)) return node;
        }
        return null;
    }

    public ValueTask<IReadOnlyList<string>> RenewAsync(string workerId, IReadOnlyCollection<LeasedJob> jobs, CancellationToken cancellationToken = default)
    {
        var lost = new List<string>();
        lock (_gate)
        {
            var deadline = _time.GetUtcNow() + _leaseDuration;
            foreach (var job in jobs)
            {
                if (HeldLease(workerId, job) is { } entry) entry.Deadline = deadline;
                else lost.Add(job.Job.Id);
            }
        }
        return ValueTask.FromResult<IReadOnlyList<string>>(lost);
    }

    public ValueTask CompleteAsync(string workerId, LeasedJob job, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (HeldLease(workerId, job) is { } entry) RemoveLease(entry);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask ReleaseAsync(string workerId, LeasedJob job, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (HeldLease(workerId, job) is { } entry)
            {
                RemoveLease(entry);
                ReturnToWaiting(entry);
                Changed();
            }
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<int?> PositionOfAsync(string jobId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var position = 1;
            foreach (var entry in _waiting)
            {
                if (entry.Job.Id == jobId) return ValueTask.FromResult<int?>(position);
                position++;
            }
        }
        return ValueTask.FromResult<int?>(null);
    }

    public void StopAccepting()
    {
        lock (_gate)
        {
            _stopped = true;
            Changed();
        }
    }

    public ValueTask<IReadOnlyList<JobDescriptor>> TakeUnservedAsync(CancellationToken cancellationToken = default)
    {
        // Nobody else serves this queue: everything still waiting is unserved.
        lock (_gate)
        {
            var jobs = _waiting.Select(e => e.Job).ToList();
            _waiting.Clear();
            Volatile.Write(ref _depth, 0);
            return ValueTask.FromResult<IReadOnlyList<JobDescriptor>>(jobs);
        }
    }

    /// <summary>Removes a job that is still waiting (its record is final now): its slot is free at once.</summary>
    private void Withdraw(string jobId)
    {
        lock (_gate)
        {
            for (var node = _waiting.First; node is not null; node = node.Next)
            {
                if (node.Value.Job.Id != jobId) continue;
                _waiting.Remove(node);
                Volatile.Write(ref _depth, _waiting.Count);
                return;
            }
        }
    }

    /// <summary>The head, then compatible jobs in order while they fit. Caller holds the lock.</summary>
    private static List<LinkedListNode<Entry>> Gather(LinkedListNode<Entry> head, int maxImages, out int images)
    {
        var batch = new List<LinkedListNode<Entry>> { head };
        images = head.Value.Job.Spec.Count;
        for (var node = head.Next; node is not null && images < maxImages; node = node.Next)
        {
            var job = node.Value.Job;
            if (job.BatchKey != head.Value.Job.BatchKey || images + job.Spec.Count > maxImages) continue;
            batch.Add(node);
            images += job.Spec.Count;
        }
        return batch;
    }

    private List<LeasedJob> Lease(string workerId, List<LinkedListNode<Entry>> batch)
    {
        var deadline = _time.GetUtcNow() + _leaseDuration;
        var leased = new List<LeasedJob>(batch.Count);
        foreach (var node in batch)
        {
            var entry = node.Value;
            _waiting.Remove(node);
            entry.Attempt++;
            entry.Owner = workerId;
            entry.Deadline = deadline;
            _leased[entry.Job.Id] = entry;
            leased.Add(new LeasedJob(entry.Job, entry.Attempt));
        }
        Volatile.Write(ref _depth, _waiting.Count);
        Volatile.Write(ref _leasedCount, _leased.Count);
        return leased;
    }

    private void ReclaimExpiredLeases()
    {
        if (_leased.Count == 0) return;
        var now = _time.GetUtcNow();
        foreach (var entry in _leased.Values.Where(e => e.Deadline <= now).ToList())
        {
            RemoveLease(entry);
            ReturnToWaiting(entry);
        }
    }

    private void DropFinished()
    {
        for (var node = _waiting.First; node is not null;)
        {
            var next = node.Next;
            if (!_store.IsUnfinished(node.Value.Job.Id)) _waiting.Remove(node);
            node = next;
        }
        Volatile.Write(ref _depth, _waiting.Count);
    }

    /// <summary>Puts a job back at its place by acceptance order, ahead of everything accepted after it.</summary>
    private void ReturnToWaiting(Entry entry)
    {
        entry.Owner = null;
        var after = _waiting.Last;
        while (after is not null && after.Value.Sequence > entry.Sequence) after = after.Previous;
        if (after is null) _waiting.AddFirst(entry);
        else _waiting.AddAfter(after, entry);
        Volatile.Write(ref _depth, _waiting.Count);
    }

    private Entry? HeldLease(string workerId, LeasedJob job) =>
        _leased.TryGetValue(job.Job.Id, out var entry) && entry.Owner == workerId && entry.Attempt == job.Attempt ? entry : null;

    private void RemoveLease(Entry entry)
    {
        _leased.Remove(entry.Job.Id);
        Volatile.Write(ref _leasedCount, _leased.Count);
    }

    private void Changed()
    {
        Volatile.Write(ref _depth, _waiting.Count);
        _changed.TrySetResult();
        _changed = NewSignal();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static ValueTask<EnqueueOutcome> Answer(EnqueueResult result, string? jobId) => ValueTask.FromResult(new EnqueueOutcome(result, jobId));

    private sealed class Entry(JobDescriptor job, long sequence, long arrivedTimestamp)
    {
        public JobDescriptor Job { get; } = job;
        public long Sequence { get; } = sequence;

        /// <summary><see cref="TimeProvider.GetTimestamp"/> at admission: the batching delay counts from it, across re-leases too.</summary>
        public long ArrivedTimestamp { get; } = arrivedTimestamp;

        public int Attempt { get; set; }
        public string? Owner { get; set; }
        public DateTimeOffset Deadline { get; set; }
    }
}
