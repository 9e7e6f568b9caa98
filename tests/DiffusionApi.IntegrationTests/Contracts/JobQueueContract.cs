using DiffusionApi.Jobs;

namespace DiffusionApi.IntegrationTests.Contracts;

/// <summary>The <see cref="IJobQueue"/> contract: admission, batching leases, renewal, release, expiry of leases, positions.</summary>
public abstract class JobQueueContract : JobBackendContract
{
    [SkippableFact]
    public async Task Enqueue_WritesTheRecordQueued_AndALeaseReturnsTheJobAtAttempt1()
    {
        var backend = CreateBackend();
        var job = await EnqueueAsync(backend, NewJob());

        var record = await GetAsync(backend, job.Id);
        Assert.Equal((JobState.Queued, 0), (record.State, record.Attempt));
        var leased = Assert.Single(await LeaseAsync(backend));
        Assert.Equal(job.Id, leased.Job.Id);
        Assert.Equal(1, leased.Attempt);
        Assert.Equal(JobJson.Serialize(job), JobJson.Serialize(leased.Job));
    }

    [SkippableFact]
    public async Task Enqueue_WhenCapacityJobsWait_AnswersFullAtOnce_AndLeavesNoRecord()
    {
        var backend = CreateBackend(new JobBackendSettings { Capacity = 2 });
        await EnqueueAsync(backend, NewJob("one"));
        await EnqueueAsync(backend, NewJob("two"));
        var refused = NewJob("three");

        Assert.Equal(new EnqueueOutcome(EnqueueResult.Full, null), await backend.Queue.EnqueueAsync(refused));
        Assert.Equal(JobPresence.NotFound, (await backend.Store.GetAsync(refused.Id)).Presence);
        Assert.Equal(new QueueStats(2, 2, 0), backend.Queue.Stats);

        // Leased jobs no longer count against the bound.
        await LeaseAsync(backend, maxImages: 1);
        await EnqueueAsync(backend, NewJob("four"));
    }

    [SkippableFact]
    public async Task Enqueue_AfterStopAccepting_AnswersDraining_AndLeavesNoRecord()
    {
        var backend = CreateBackend();
        backend.Queue.StopAccepting();
        var refused = NewJob();

        Assert.Equal(new EnqueueOutcome(EnqueueResult.Draining, null), await backend.Queue.EnqueueAsync(refused));
        Assert.Equal(JobPresence.NotFound, (await backend.Store.GetAsync(refused.Id)).Presence);
    }

    [SkippableFact]
    public async Task Enqueue_WithAnIdempotencyKeySeenBefore_AnswersTheFirstJob()
    {
        var backend = CreateBackend();
        var first = await EnqueueAsync(backend, NewJob("first", idempotencyKey: "key-1"));
        var repeat = NewJob("repeat", idempotencyKey: "key-1");

        Assert.Equal(new EnqueueOutcome(EnqueueResult.Duplicate, first.Id), await backend.Queue.EnqueueAsync(repeat));
        Assert.Equal(JobPresence.NotFound, (await backend.Store.GetAsync(repeat.Id)).Presence);
        Assert.Equal(1, backend.Queue.Stats.Depth);
        await EnqueueAsync(backend, NewJob("other key", idempotencyKey: "key-2"));
    }

    [SkippableFact]
    public async Task Lease_GathersCompatibleJobsInQueueOrder_AndJobsPassedOverKeepTheirPlaces()
    {
        var backend = CreateBackend();
        foreach (var (prompt, steps) in new[] { ("a", 2), ("b", 3), ("c", 2), ("d", 3), ("e", 2) }) await EnqueueAsync(backend, NewJob(prompt, steps));

        string[] batches = [Prompts(await LeaseAsync(backend, maxImages: 2)), Prompts(await LeaseAsync(backend, maxImages: 2)), Prompts(await LeaseAsync(backend, maxImages: 2))];

        Assert.Equal(["ac", "bd", "e"], batches);
        Assert.Equal(new QueueStats(0, 16, 5), backend.Queue.Stats);
    }

    [SkippableFact]
    public async Task Lease_ForOneModel_TakesOnlyThatModelsJobs_AndOthersKeepTheirPlaces()
    {
        var backend = CreateBackend();
        var other = await EnqueueAsync(backend, NewJob("other", model: "sdxl"));
        await EnqueueAsync(backend, NewJob("mine"));
        await EnqueueAsync(backend, NewJob("mine too", steps: 3));

        Assert.Equal("mine", Prompts(await LeaseAsync(backend, model: "tiny-sd")));
        Assert.Equal(1, await backend.Queue.PositionOfAsync(other.Id));
        // A worker with both models takes the oldest of their jobs first.
        using var timeout = new CancellationTokenSource(Patience);
        var both = await backend.Queue.LeaseBatchAsync("worker-b", new BatchLimits(4, TimeSpan.Zero, ["tiny-sd", "sdxl"]), timeout.Token);
        Assert.Equal("other", Prompts(both!));
        Assert.Equal("mine too", Prompts(await LeaseAsync(backend, model: "tiny-sd")));
    }

    [SkippableFact]
    public async Task Lease_AJobWithMoreImagesThanMaxImages_IsLeasedAlone_AndSmallerOnesDoNotJoinAFullBatch()
    {
        var backend = CreateBackend();
        await EnqueueAsync(backend, NewJob("big", images: 3));
        await EnqueueAsync(backend, NewJob("small"));

        Assert.Equal("big", Prompts(await LeaseAsync(backend, maxImages: 2)));
        Assert.Equal("small", Prompts(await LeaseAsync(backend, maxImages: 2)));
    }

    [SkippableFact]
    public async Task Lease_WaitsForCompatibleJobs_AndReturnsOnceTheBatchIsFull()
    {
        var backend = CreateBackend();
        await EnqueueAsync(backend, NewJob("first"));

        // A delay far longer than the test: the lease can only come back early because the batch filled up.
        using var timeout = new CancellationTokenSource(Patience);
        var lease = backend.Queue.LeaseBatchAsync("worker-a", new BatchLimits(2, TimeSpan.FromMinutes(5)), timeout.Token).AsTask();
        var incompatible = await EnqueueAsync(backend, NewJob("incompatible", steps: 3));
        await EnqueueAsync(backend, NewJob("second"));

        Assert.Equal("firstsecond", Prompts((await lease)!));
        Assert.Equal(1, await backend.Queue.PositionOfAsync(incompatible.Id));
    }

    [SkippableFact]
    public async Task Lease_WithNoBatchingDelay_ReturnsTheHeadWithoutWaitingForCompany()
    {
        var backend = CreateBackend();
        await EnqueueAsync(backend, NewJob("alone"));

        Assert.Equal("alone", Prompts(await LeaseAsync(backend, maxImages: 4, maxDelay: TimeSpan.Zero)));
    }

    [SkippableFact]
    public async Task Lease_OnAnEmptyQueue_WaitsForTheNextJob()
    {
        var backend = CreateBackend();
        using var timeout = new CancellationTokenSource(Patience);
        var lease = backend.Queue.LeaseBatchAsync("worker-a", new BatchLimits(4, TimeSpan.Zero), timeout.Token).AsTask();
        Assert.False(lease.IsCompleted);

        await EnqueueAsync(backend, NewJob("late"));

        Assert.Equal("late", Prompts((await lease)!));
    }

    [SkippableFact]
    public async Task Lease_DropsJobsCancelledWhileTheyWaited()
    {
        var backend = CreateBackend();
        var cancelled = await EnqueueAsync(backend, NewJob("cancelled"));
        await EnqueueAsync(backend, NewJob("wanted"));
        Assert.Equal(CancelResult.Cancelled, (await backend.Store.RequestCancelAsync(cancelled.Id)).Result);

        Assert.Equal("wanted", Prompts(await LeaseAsync(backend)));
        Assert.Null(await backend.Queue.PositionOfAsync(cancelled.Id));
        Assert.Equal(0, backend.Queue.Stats.Depth);
    }

    [SkippableFact]
    public async Task CancellingAWaitingJob_FreesItsSlotAtOnce_WithoutALease()
    {
        // Nothing leases here (the worker is busy elsewhere): the cancelled job must not hold its slot until one does.
        var backend = CreateBackend(new JobBackendSettings { Capacity = 2 });
        var cancelled = await EnqueueAsync(backend, NewJob("cancelled"));
        var waiting = await EnqueueAsync(backend, NewJob("waiting"));
        Assert.Equal(EnqueueResult.Full, (await backend.Queue.EnqueueAsync(NewJob("refused"))).Result);

        Assert.Equal(CancelResult.Cancelled, (await backend.Store.RequestCancelAsync(cancelled.Id)).Result);

        Assert.Null(await backend.Queue.PositionOfAsync(cancelled.Id));
        Assert.Equal(1, await backend.Queue.PositionOfAsync(waiting.Id));
        var admitted = await EnqueueAsync(backend, NewJob("admitted"));
        Assert.Equal(2, await backend.Queue.PositionOfAsync(admitted.Id));
        Assert.Equal(EnqueueResult.Full, (await backend.Queue.EnqueueAsync(NewJob("refused again"))).Result);
        Assert.Equal("waiting", Prompts(await LeaseAsync(backend, maxImages: 1)));
    }

    [SkippableFact]
    public async Task Position_CountsFromOneInQueueOrder_AndIsNullOnceLeased()
    {
        var backend = CreateBackend();
        var first = await EnqueueAsync(backend, NewJob("first"));
        var second = await EnqueueAsync(backend, NewJob("second", steps: 3));

        Assert.Equal(1, await backend.Queue.PositionOfAsync(first.Id));
        Assert.Equal(2, await backend.Queue.PositionOfAsync(second.Id));
        Assert.Null(await backend.Queue.PositionOfAsync("job_unknown"));

        await LeaseAsync(backend);
        Assert.Null(await backend.Queue.PositionOfAsync(first.Id));
        Assert.Equal(1, await backend.Queue.PositionOfAsync(second.Id));
    }

    [SkippableFact]
    public async Task Positions_StayExact_ThroughBatchesCancelsReleasesAndOtherModelsLeases()
    {
        // A random walk (fixed seed) through everything that takes jobs out of the queue in or out of order, or puts one
        // back; after each step every waiting job's position is its place among the waiting jobs in admission order.
        var backend = CreateBackend(new JobBackendSettings { Capacity = 200 });
        var random = new Random(20261202);
        var admitted = new List<JobDescriptor>();
        var waiting = new HashSet<string>();
        var held = new List<LeasedJob>();
        for (var step = 0; step < 80; step++)
        {
            var choice = random.Next(10);
            if (choice < 4 || waiting.Count == 0)
            {
                var job = await EnqueueAsync(backend, NewJob($"j{step}", steps: 2 + random.Next(2), images: 1 + random.Next(2), model: random.Next(3) == 0 ? "sdxl" : "tiny-sd"));
                admitted.Add(job);
                waiting.Add(job.Id);
            }
            else if (choice < 7)
            {
                // Any model, or only tiny-sd's jobs when one waits (a worker with one model skips the others').
                var model = random.Next(2) == 0 && admitted.Any(j => waiting.Contains(j.Id) && j.Spec.Model == "tiny-sd") ? "tiny-sd" : null;
                foreach (var leased in await LeaseAsync(backend, maxImages: 1 + random.Next(3), model: model))
                {
                    Assert.True(waiting.Remove(leased.Job.Id), $"step {step}: leased {leased.Job.Spec.Prompt}, which was not waiting");
                    Assert.Equal(StartResult.Started, await backend.Store.TryStartAsync(leased.Job.Id, leased.FenceFor("worker-a")));
                    held.Add(leased);
                }
            }
            else if (choice < 9)
            {
                var victim = admitted.Where(j => waiting.Contains(j.Id)).ElementAt(random.Next(waiting.Count));
                Assert.Equal(CancelResult.Cancelled, (await backend.Store.RequestCancelAsync(victim.Id)).Result);
                waiting.Remove(victim.Id);
            }
            else if (held.Count > 0)
            {
                var back = held[random.Next(held.Count)];
                held.Remove(back);
                Assert.True(await backend.Store.TryRequeueAsync(back.Job.Id, back.FenceFor("worker-a")));
                await backend.Queue.ReleaseAsync("worker-a", back);
                waiting.Add(back.Job.Id);
            }

            var order = admitted.Where(j => waiting.Contains(j.Id)).ToList();
            for (var i = 0; i < order.Count; i++)
                Assert.True(await backend.Queue.PositionOfAsync(order[i].Id) == i + 1, $"step {step}: {order[i].Spec.Prompt} is not at {i + 1}");
        }
    }

    [SkippableFact]
    public async Task Complete_EndsTheLease_SoARenewalReportsItLost()
    {
        var backend = CreateBackend();
        await EnqueueAsync(backend, NewJob());
        var leased = await LeaseAsync(backend);

        Assert.Empty(await backend.Queue.RenewAsync("worker-a", leased.ToArray()));
        Assert.Equal([leased[0].Job.Id], await backend.Queue.RenewAsync("worker-b", leased.ToArray()));
        await backend.Queue.CompleteAsync("worker-a", leased[0]);

        Assert.Equal([leased[0].Job.Id], await backend.Queue.RenewAsync("worker-a", leased.ToArray()));
        Assert.Equal(new QueueStats(0, 16, 0), backend.Queue.Stats);
    }

    [SkippableFact]
    public async Task Release_PutsTheJobBackAheadOfLaterJobs_WithTheNextAttempt()
    {
        var backend = CreateBackend();
        var first = await EnqueueAsync(backend, NewJob("first"));
        var leased = Assert.Single(await LeaseAsync(backend, maxImages: 1));
        Assert.Equal(StartResult.Started, await backend.Store.TryStartAsync(first.Id, leased.FenceFor("worker-a")));
        await EnqueueAsync(backend, NewJob("later"));

        Assert.True(await backend.Store.TryRequeueAsync(first.Id, leased.FenceFor("worker-a")));
        await backend.Queue.ReleaseAsync("worker-a", leased);

        Assert.Equal(1, await backend.Queue.PositionOfAsync(first.Id));
        var again = Assert.Single(await LeaseAsync(backend, "worker-b", maxImages: 1));
        Assert.Equal((first.Id, 2), (again.Job.Id, again.Attempt));
        Assert.Equal(StartResult.Started, await backend.Store.TryStartAsync(first.Id, again.FenceFor("worker-b")));
    }

    [SkippableFact]
    public async Task ALeaseThatIsNotRenewed_Expires_AndTheJobIsLeasedAgainWithTheNextAttempt()
    {
        var backend = CreateBackend(new JobBackendSettings { LeaseDuration = TimeSpan.FromMilliseconds(300) });
        var job = await EnqueueAsync(backend, NewJob());
        var first = Assert.Single(await LeaseAsync(backend, "worker-a"));
        Assert.Equal(StartResult.Started, await backend.Store.TryStartAsync(job.Id, first.FenceFor("worker-a")));

        // worker-a stalls; worker-b's lease waits until the lease runs out and takes the job over.
        var second = Assert.Single(await LeaseAsync(backend, "worker-b"));

        Assert.Equal((job.Id, 2), (second.Job.Id, second.Attempt));
        Assert.Equal([job.Id], await backend.Queue.RenewAsync("worker-a", [first]));
        Assert.Equal(StartResult.Started, await backend.Store.TryStartAsync(job.Id, second.FenceFor("worker-b")));
        Assert.False(await backend.Store.TryFinishAsync(job.Id, first.FenceFor("worker-a"), JobOutcome.Cancelled));
    }

    [SkippableFact]
    public async Task Renewing_KeepsALeaseBeyondItsDuration()
    {
        var backend = CreateBackend(new JobBackendSettings { LeaseDuration = TimeSpan.FromSeconds(1) });
        await EnqueueAsync(backend, NewJob());
        var leased = await LeaseAsync(backend, "worker-a");

        // Renewed every 100 ms for 2.5 lease durations: no other worker may get the job meanwhile.
        var other = TryLeaseAsync(backend, TimeSpan.FromMilliseconds(2500));
        while (!other.IsCompleted)
        {
            Assert.Empty(await backend.Queue.RenewAsync("worker-a", leased.ToArray()));
            await Task.Delay(100);
        }

        Assert.Null(await other);
        Assert.Empty(await backend.Queue.RenewAsync("worker-a", leased.ToArray()));
    }

    [SkippableFact]
    public async Task AfterStopAccepting_LeasesEndWithNull_AndEveryWaitingJobIsLeasedOrStillWaiting()
    {
        var backend = CreateBackend();
        var jobs = new[] { await EnqueueAsync(backend, NewJob("a")), await EnqueueAsync(backend, NewJob("b", steps: 3)) };
        backend.Queue.StopAccepting();

        var leased = new List<string>();
        for (var i = 0; i <= jobs.Length; i++)
        {
            using var timeout = new CancellationTokenSource(Patience);
            if (await backend.Queue.LeaseBatchAsync("worker-a", new BatchLimits(4, TimeSpan.FromMinutes(5)), timeout.Token) is not { } batch) break;
            leased.AddRange(batch.Select(j => j.Job.Id));
        }

        using var last = new CancellationTokenSource(Patience);
        Assert.Null(await backend.Queue.LeaseBatchAsync("worker-a", new BatchLimits(4, TimeSpan.Zero), last.Token));
        foreach (var job in jobs)
            Assert.True(leased.Contains(job.Id) || await backend.Queue.PositionOfAsync(job.Id) is not null, $"{job.Spec.Prompt} was lost");
    }

    [SkippableFact]
    public async Task TakeUnserved_RemovesTheJobsItReturns_AndLeavesTheRestWaiting()
    {
        var backend = CreateBackend();
        var jobs = new[] { await EnqueueAsync(backend, NewJob("a")), await EnqueueAsync(backend, NewJob("b")) };
        backend.Queue.StopAccepting();

        var unserved = (await backend.Queue.TakeUnservedAsync()).Select(j => j.Id).ToHashSet();

        foreach (var job in jobs)
        {
            var position = await backend.Queue.PositionOfAsync(job.Id);
            Assert.True(unserved.Contains(job.Id) ^ position is not null, $"{job.Spec.Prompt}: returned {unserved.Contains(job.Id)}, position {position}");
        }
    }

    private static string Prompts(IReadOnlyList<LeasedJob> batch) => string.Concat(batch.Select(j => j.Job.Spec.Prompt));
}
