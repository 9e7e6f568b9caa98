using DiffusionApi.Jobs;

namespace DiffusionApi.IntegrationTests.Contracts;

/// <summary>The <see cref="IJobStore"/> contract: the state machine, fencing, cancel, and expiry (410 Gone, then 404).</summary>
public abstract class JobStoreContract : JobBackendContract
{
    private static readonly JobImageRef[] Images = [new(42, "0123456789abcdef0123456789abcdef", "image/png")];

    [SkippableFact]
    public async Task AnIdNeverAdmitted_IsNotFound()
    {
        var backend = CreateBackend();

        Assert.Equal(JobLookup.NotFound, await backend.Store.GetAsync("job_never"));
        Assert.Equal(CancelResult.NotFound, (await backend.Store.RequestCancelAsync("job_never")).Result);
        Assert.Equal(StartResult.Superseded, await backend.Store.TryStartAsync("job_never", new JobFence("worker-a", 1)));
    }

    [SkippableFact]
    public async Task AnAdmittedJob_IsQueued_WithItsDescriptorAndTheSpecsStepCount()
    {
        var backend = CreateBackend();
        var job = await EnqueueAsync(backend, NewJob(steps: 7));

        var record = await GetAsync(backend, job.Id);

        Assert.Equal(JobJson.Serialize(job), JobJson.Serialize(record.Job));
        Assert.Equal(new JobSnapshot(record.Job, JobState.Queued, 0, 7, false, null, 0, null, null, null), record);
    }

    [SkippableFact]
    public async Task Start_RunsTheJobForTheFence_AndOnlyThatFenceMayWriteIt()
    {
        var (backend, job, fence) = await StartedJobAsync();

        Assert.Equal(StartResult.Superseded, await backend.Store.TryStartAsync(job.Id, fence));
        Assert.False(await backend.Store.TryReportProgressAsync(job.Id, fence with { Owner = "worker-b" }, 1, 2));
        Assert.True(await backend.Store.TryReportProgressAsync(job.Id, fence, 1, 2));

        var record = await GetAsync(backend, job.Id);
        Assert.Equal((JobState.Running, "worker-a", 1, 1, 2), (record.State, record.Owner, record.Attempt, record.Step, record.TotalSteps));
    }

    [SkippableFact]
    public async Task ANewerAttempt_TakesOverARunningJob_AndTheOlderHoldersWritesAreRefused()
    {
        var (backend, job, stale) = await StartedJobAsync();
        var newer = new JobFence("worker-b", 2);

        Assert.Equal(StartResult.Started, await backend.Store.TryStartAsync(job.Id, newer));

        Assert.False(await backend.Store.TryReportProgressAsync(job.Id, stale, 2, 2));
        Assert.False(await backend.Store.TryRequeueAsync(job.Id, stale));
        Assert.False(await backend.Store.TryFinishAsync(job.Id, stale, JobOutcome.Succeeded(Images)));
        Assert.Equal(StartResult.Superseded, await backend.Store.TryStartAsync(job.Id, stale));
        Assert.True(await backend.Store.TryFinishAsync(job.Id, newer, JobOutcome.Succeeded(Images)));
        var record = await GetAsync(backend, job.Id);
        Assert.Equal((JobState.Succeeded, 2), (record.State, record.Attempt));
    }

    [SkippableFact]
    public async Task Finish_KeepsTheImageIds_AndAFinishedJobNeverChangesAgain()
    {
        var (backend, job, fence) = await StartedJobAsync();

        Assert.True(await backend.Store.TryFinishAsync(job.Id, fence, JobOutcome.Succeeded(Images)));

        Assert.False(await backend.Store.TryFinishAsync(job.Id, fence, JobOutcome.Failed("late")));
        Assert.False(await backend.Store.TryFinishAsync(job.Id, null, JobOutcome.Failed("late")));
        Assert.False(await backend.Store.TryRequeueAsync(job.Id, fence));
        Assert.Equal(StartResult.Finished, await backend.Store.TryStartAsync(job.Id, new JobFence("worker-b", 2)));
        Assert.Equal(CancelResult.AlreadyFinished, (await backend.Store.RequestCancelAsync(job.Id)).Result);
        var record = await GetAsync(backend, job.Id);
        Assert.Equal(JobState.Succeeded, record.State);
        Assert.Equal(Images, record.Images);
        Assert.NotNull(record.FinishedAt);
        Assert.Null(record.Owner);
    }

    [SkippableFact]
    public async Task FinishWithoutAFence_FailsAQueuedJob_ButNeverARunningOne()
    {
        var (backend, running, _) = await StartedJobAsync();
        var queued = await EnqueueAsync(backend, NewJob("queued"));

        Assert.True(await backend.Store.TryFinishAsync(queued.Id, null, JobOutcome.Failed("the service stopped", aborted: true)));
        Assert.False(await backend.Store.TryFinishAsync(running.Id, null, JobOutcome.Failed("the service stopped", aborted: true)));

        var record = await GetAsync(backend, queued.Id);
        Assert.Equal((JobState.Failed, new JobFailure("the service stopped", true)), (record.State, record.Failure));
        Assert.Equal(JobState.Running, (await GetAsync(backend, running.Id)).State);
    }

    [SkippableFact]
    public async Task CancellingAQueuedJob_CancelsItAtOnce_SoNoWorkerStartsIt()
    {
        var backend = CreateBackend();
        var job = await EnqueueAsync(backend, NewJob());

        var outcome = await backend.Store.RequestCancelAsync(job.Id);

        Assert.Equal(CancelResult.Cancelled, outcome.Result);
        Assert.Equal(JobState.Cancelled, outcome.Job!.State);
        Assert.Equal(StartResult.Finished, await backend.Store.TryStartAsync(job.Id, new JobFence("worker-a", 1)));
    }

    [SkippableFact]
    public async Task CancellingARunningJob_SetsItsFlag_AndItsHolderFinishesIt()
    {
        var (backend, job, fence) = await StartedJobAsync();

        var outcome = await backend.Store.RequestCancelAsync(job.Id);

        Assert.Equal(CancelResult.Requested, outcome.Result);
        Assert.Equal((JobState.Running, true), (outcome.Job!.State, outcome.Job.CancelRequested));
        Assert.True(await backend.Store.TryFinishAsync(job.Id, fence, JobOutcome.Cancelled));
        Assert.Equal(JobState.Cancelled, (await GetAsync(backend, job.Id)).State);
    }

    [SkippableFact]
    public async Task Requeue_ReturnsTheJobToQueued_AndOnlyANewerAttemptStartsItAgain()
    {
        var (backend, job, fence) = await StartedJobAsync();

        Assert.True(await backend.Store.TryRequeueAsync(job.Id, fence));

        var record = await GetAsync(backend, job.Id);
        Assert.Equal((JobState.Queued, (string?)null, 1), (record.State, record.Owner, record.Attempt));
        Assert.Equal(StartResult.Superseded, await backend.Store.TryStartAsync(job.Id, fence));
        Assert.Equal(StartResult.Started, await backend.Store.TryStartAsync(job.Id, new JobFence("worker-b", 2)));
    }

    [SkippableFact]
    public async Task AFinishedAsyncJob_IsGoneAfterTheRetention_ThenNotFoundAfterAsLongAgain()
    {
        // Gone from 2 s after the finish until 4 s: a 300 ms window was missed by a poll on a busy CI machine.
        var backend = CreateBackend(new JobBackendSettings { Retention = TimeSpan.FromSeconds(2) });
        var (_, job, fence) = await StartedJobAsync(backend);
        Assert.True(await backend.Store.TryFinishAsync(job.Id, fence, JobOutcome.Succeeded(Images)));

        Assert.Equal(JobPresence.Gone, (await FirstLookupAfterExpiryAsync(backend, job.Id)).Presence);
        Assert.Equal(CancelResult.Gone, (await backend.Store.RequestCancelAsync(job.Id)).Result);
        await backend.Store.SweepExpiredAsync();
        await EventuallyAsync(async () => (await backend.Store.GetAsync(job.Id)).Presence == JobPresence.NotFound, "the expired job is forgotten");
    }

    [SkippableFact]
    public async Task AnExpiredJob_KeepsItsApiKeyOwner_SoAnotherKeyIsNotToldItExisted()
    {
        // Gone from 2 s after the finish until 4 s: a window wide enough for a loaded machine to read it in.
        var backend = CreateBackend(new JobBackendSettings { Retention = TimeSpan.FromSeconds(2) });
        var owned = await EnqueueAsync(backend, NewJob("owned") with { Owner = "owner-hash-a" });
        var anonymous = await EnqueueAsync(backend, NewJob("anonymous"));
        Assert.True(await backend.Store.TryFinishAsync(owned.Id, null, JobOutcome.Failed("x")));
        Assert.True(await backend.Store.TryFinishAsync(anonymous.Id, null, JobOutcome.Failed("x")));

        Assert.Equal(JobLookup.GoneFor("owner-hash-a"), await FirstLookupAfterExpiryAsync(backend, owned.Id));
        Assert.Equal(JobLookup.Gone, await FirstLookupAfterExpiryAsync(backend, anonymous.Id));
    }

    private static async Task<JobLookup> FirstLookupAfterExpiryAsync(JobBackend backend, string jobId)
    {
        var lookup = default(JobLookup);
        await EventuallyAsync(async () => (lookup = await backend.Store.GetAsync(jobId)).Presence != JobPresence.Found, "the job expires");
        return lookup;
    }

    [SkippableFact]
    public async Task AFinishedSyncJob_IsForgottenAfterItsRetention_WithoutAGoneMarker()
    {
        var backend = CreateBackend(new JobBackendSettings { SyncRetention = TimeSpan.FromMilliseconds(300) });
        var job = await EnqueueAsync(backend, NewJob(kind: JobKind.Sync));
        Assert.True(await backend.Store.TryFinishAsync(job.Id, null, JobOutcome.Failed("x")));

        var seen = new List<JobPresence>();
        await EventuallyAsync(async () =>
        {
            seen.Add((await backend.Store.GetAsync(job.Id)).Presence);
            return seen[^1] != JobPresence.Found;
        }, "the sync job is forgotten");

        Assert.Equal(JobPresence.NotFound, seen[^1]);
    }

    [SkippableFact]
    public async Task QueuedAndRunningJobs_NeverExpire()
    {
        var backend = CreateBackend(new JobBackendSettings { Retention = TimeSpan.FromMilliseconds(50), SyncRetention = TimeSpan.FromMilliseconds(50) });
        var (_, running, _) = await StartedJobAsync(backend);
        var queued = await EnqueueAsync(backend, NewJob("queued", kind: JobKind.Sync));

        await Task.Delay(400);
        await backend.Store.SweepExpiredAsync();

        Assert.Equal(JobState.Queued, (await GetAsync(backend, queued.Id)).State);
        Assert.Equal(JobState.Running, (await GetAsync(backend, running.Id)).State);
    }

    private async Task<(JobBackend Backend, JobDescriptor Job, JobFence Fence)> StartedJobAsync(JobBackend? backend = null)
    {
        backend ??= CreateBackend();
        var job = await EnqueueAsync(backend, NewJob("running", steps: 5));
        var leased = (await LeaseAsync(backend, "worker-a", maxImages: 1)).Single(l => l.Job.Id == job.Id);
        var fence = leased.FenceFor("worker-a");
        Assert.Equal(StartResult.Started, await backend.Store.TryStartAsync(job.Id, fence));
        return (backend, job, fence);
    }
}
