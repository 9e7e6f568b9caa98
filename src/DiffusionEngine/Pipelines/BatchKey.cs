using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using DiffusionEngine.Schedulers;

namespace DiffusionEngine.Pipelines;

/// <summary>
/// What must match for requests to share one UNet batch of a model: size, steps, scheduler, mode, the first step that
/// runs (from strength), whether the unconditional pass runs, and how many 77-token chunks the text conditioning has.
/// Defined once, here: the engine rejects a batch whose requests' keys differ, and the service's gatherer groups jobs by
/// the same key (plus the model), so a gathered batch is never rejected and requests with guidance ≤ 1 never pay for a
/// doubled UNet batch. Prompts (beyond their chunk count), seeds, guidance scales above 1, prompt syntax, emphasis,
/// clip skip, init images and masks do not enter the key: image i of a batch equals request i run alone. The chunk
/// count must, because padding a prompt with empty chunks to a batch-mate's count would change its image (the UNet's
/// cross-attention would attend over the added tokens), as A1111 pads only a prompt and its own negative prompt.
/// </summary>
/// <param name="Width">Image width in pixels.</param>
/// <param name="Height">Image height in pixels.</param>
/// <param name="Steps">Steps of the full schedule.</param>
/// <param name="Scheduler">The canonical scheduler id (<see cref="SchedulerInfo.Id"/>), the model's default resolved.</param>
/// <param name="Mode">Text-to-image, image-to-image or inpainting.</param>
/// <param name="FirstStep">Index of the first schedule step that runs: <c>Steps − ⌊Steps·strength⌋</c> (0 for text-to-image).</param>
/// <param name="UnconditionalPass">Whether the UNet runs the negative prompt too (guidance &gt; 1 and not an LCM model).</param>
/// <param name="PromptChunks">Chunks of the text conditioning (<see cref="PromptReader.ChunkCount"/>): encoder_hidden_states are [rows, PromptChunks·77, hidden].</param>
public readonly record struct BatchKey(int Width, int Height, int Steps, string Scheduler, GenerationMode Mode, int FirstStep, bool UnconditionalPass, int PromptChunks = 1)
{
    /// <summary>
    /// The key of <paramref name="request"/> on <paramref name="model"/>. Needs only the model's metadata, so a process
    /// that does not hold the model (an API replica) can compute it from a <see cref="ModelInfo"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The model cannot run the request's mode, the scheduler is unknown, the
    /// strength is outside (0, 1] or leaves no step to run, or a prompt needs more chunks than allowed or has a weight
    /// that is not a number; the message names the value. Also when <paramref name="model"/> has no
    /// <see cref="ModelInfo.Prompts"/> to count chunks with.</exception>
    public static BatchKey For(GenerationRequest request, ModelInfo model) => WithPrompts(request, model, out _);

    /// <summary>The key, and the request's texts as the key counted them (so the engine tokenizes each prompt once).</summary>
    internal static BatchKey WithPrompts(GenerationRequest request, ModelInfo model, out RequestPrompts prompts)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(model);
        var reader = model.Prompts
            ?? throw new ArgumentException("the model description has no prompt reader (ModelInfo.Prompts) to count the prompt's chunks with", nameof(model));
        var mode = request.Mode;
        if (!model.Supports(mode))
        {
            throw new ArgumentException(
                $"this model ({model.Kind.Id()}) cannot run {mode.Id()}: it supports {string.Join(", ", model.Capabilities.Select(c => c.Id()))}{WhyNot(mode, model)}",
                nameof(request));
        }

        var schedulerName = request.Scheduler ?? model.DefaultScheduler;
        if (!SchedulerFactory.TryResolve(schedulerName, out var scheduler))
        {
            throw new ArgumentException($"scheduler must be one of {SchedulerFactory.AcceptedNames()} but was '{schedulerName}'", nameof(request));
        }

        var firstStep = mode == GenerationMode.TextToImage ? 0 : FirstStepOf(request.Steps, request.Strength ?? ModelDefaults.StrengthFor(mode));
        var unconditional = !model.Kind.IsLatentConsistency() && request.GuidanceScale > 1f;
        prompts = reader.ReadRequest(request, unconditional);
        return new BatchKey(request.Width, request.Height, request.Steps, scheduler.Id, mode, firstStep, unconditional, prompts.ChunkCount);
    }

    /// <summary>
    /// The denoising steps a request with this key runs, which its progress reports count to
    /// (<see cref="StepProgress.TotalSteps"/>): the schedule's length less <see cref="FirstStep"/>. The schedule may be
    /// longer than <see cref="Steps"/> (PNDM's PLMS warm-up adds one: 20 steps run 21), so a job can show the total
    /// its progress will reach before it starts.
    /// </summary>
    /// <param name="config">The model's scheduler configuration (<see cref="ModelInfo.SchedulerConfig"/>).</param>
    /// <exception cref="ArgumentException">The scheduler cannot make a schedule of <see cref="Steps"/> steps (parameter <c>steps</c>).</exception>
    public int StepsThatRun(SchedulerConfig config)
    {
        if (!SchedulerFactory.TryResolve(Scheduler, out var info)) return Steps - FirstStep;
        var scheduler = SchedulerFactory.Create(info, config);
        try
        {
            scheduler.SetTimesteps(Steps);
        }
        catch (ArgumentException ex)
        {
            // The schedule itself refuses the count (e.g. more steps than the model's training timesteps allow).
            var reason = ex.ParamName is { } name ? ex.Message.Split($" (Parameter '{name}')")[0] : ex.Message;
            throw new ArgumentException($"steps {Steps} cannot run with the {Scheduler} scheduler: {reason}", "steps", ex);
        }
        return scheduler.Timesteps.Count - FirstStep;
    }

    /// <summary>
    /// diffusers' <c>get_timesteps</c>: <c>init_timestep = min(⌊steps·strength⌋, steps)</c> steps run, starting at index
    /// <c>steps − init_timestep</c> of the schedule.
    /// </summary>
    /// <exception cref="ArgumentException">Strength is not in (0, 1], or ⌊steps·strength⌋ is 0 (no step would run).</exception>
    public static int FirstStepOf(int steps, double strength)
    {
        if (!(strength > 0 && strength <= 1))
        {
            throw new ArgumentException($"strength must be greater than 0 and at most 1 but was {strength.ToString(CultureInfo.InvariantCulture)}", nameof(strength));
        }
        var stepsThatRun = Math.Min((int)Math.Floor(steps * strength), steps);
        if (stepsThatRun < 1)
        {
            throw new ArgumentException(
                $"strength {strength.ToString(CultureInfo.InvariantCulture)} with {steps} steps leaves no denoising step to run " +
                $"(⌊steps·strength⌋ = 0); use a strength of at least {(1.0 / steps).ToString("0.###", CultureInfo.InvariantCulture)} or more steps",
                nameof(strength));
        }
        return steps - stepsThatRun;
    }

    /// <summary>
    /// The key as a stable string, e.g. <c>512x512/steps=20/scheduler=euler_a/mode=img2img/first=4/uncond=1</c>, with
    /// <c>/chunks=N</c> appended only for prompts of several chunks (so every single-chunk key reads as it did before
    /// chunks were counted): invariant culture, fixed field order, so equal keys give equal strings in every process (a
    /// Redis stream name or hash field). <see cref="TryParse"/> reads it back.
    /// </summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Width}x{Height}/steps={Steps}/scheduler={Scheduler}/mode={Mode.Id()}/first={FirstStep}/uncond={(UnconditionalPass ? 1 : 0)}") +
        (PromptChunks == 1 ? "" : string.Create(CultureInfo.InvariantCulture, $"/chunks={PromptChunks}"));

    /// <summary>Parses what <see cref="ToString"/> wrote; false for anything else (including a non-canonical <c>/chunks=1</c>).</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out BatchKey? key)
    {
        key = null;
        var parts = text?.Split('/');
        if (parts is not { Length: 6 or 7 }) return false;
        var size = parts[0].Split('x');
        if (size.Length != 2 || !TryInt(size[0], out var width) || !TryInt(size[1], out var height)) return false;
        if (!TryField(parts[1], "steps", out var stepsText) || !TryInt(stepsText, out var steps)) return false;
        if (!TryField(parts[2], "scheduler", out var scheduler) || scheduler.Length == 0) return false;
        if (!TryField(parts[3], "mode", out var modeText) || !GenerationModes.TryParse(modeText, out var mode)) return false;
        if (!TryField(parts[4], "first", out var firstText) || !TryInt(firstText, out var first)) return false;
        if (!TryField(parts[5], "uncond", out var uncond) || uncond is not ("0" or "1")) return false;
        var chunks = 1;
        if (parts.Length == 7 && (!TryField(parts[6], "chunks", out var chunksText) || !TryInt(chunksText, out chunks) || chunks < 2)) return false;
        key = new BatchKey(width, height, steps, scheduler, mode, first, uncond == "1", chunks);
        return key.Value.ToString() == text;
    }

    private static string WhyNot(GenerationMode mode, ModelInfo model) =>
        mode != GenerationMode.TextToImage && !model.Supports(GenerationMode.ImageToImage) && !model.Kind.IsInpaintingUNet()
            ? model.Kind.IsLatentConsistency()
                ? " (image inputs are not supported for LCM models)"
                : " (the model folder has no vae_encoder/model.onnx to encode the init image)"
            : model.Kind.IsInpaintingUNet() ? " (an inpainting UNet needs an init image and a mask)" : "";

    private static bool TryField(string part, string name, out string value)
    {
        value = "";
        if (!part.StartsWith(name + "=", StringComparison.Ordinal)) return false;
        value = part[(name.Length + 1)..];
        return true;
    }

    private static bool TryInt(string text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
