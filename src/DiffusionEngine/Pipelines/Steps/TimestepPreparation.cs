using DiffusionEngine.Schedulers;

namespace DiffusionEngine.Pipelines.Steps;

/// <summary>
/// Step 3 ("prepare timesteps"): one scheduler instance per image (schedulers keep per-run state), each set to the full
/// schedule of <see cref="BatchKey.Steps"/> steps. With an init image the loop starts at <see cref="BatchKey.FirstStep"/>
/// (diffusers' <c>get_timesteps</c>: <c>timesteps[t_start · order:]</c>, order 1 for every scheduler here), so the
/// stepping schedulers index their sigmas and histories from there as diffusers' <c>set_begin_index</c> makes them.
/// </summary>
internal static class TimestepPreparation
{
    public static IScheduler[] Create(SchedulerInfo scheduler, SchedulerConfig config, int count, int steps)
    {
        var schedulers = new IScheduler[count];
        for (var i = 0; i < count; i++)
        {
            schedulers[i] = SchedulerFactory.Create(scheduler, config);
            schedulers[i].SetTimesteps(steps);
        }
        return schedulers;
    }
}
