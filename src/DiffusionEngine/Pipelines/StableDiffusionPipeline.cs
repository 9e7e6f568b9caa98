using System.Buffers;
using System.Diagnostics;
using System.Numerics.Tensors;
using DiffusionEngine.Models;
using DiffusionEngine.Noise;
using DiffusionEngine.Optimization;
using DiffusionEngine.Runtime;
using DiffusionEngine.Schedulers;
using DiffusionEngine.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines;

/// <summary>
/// Text-to-image with a Stable Diffusion 1.x/2.x ONNX export, step for step as diffusers'
/// <c>StableDiffusionPipeline.__call__</c>: check inputs, encode the prompts, prepare timesteps and latents, denoise
/// with classifier-free guidance, decode with the VAE. Owns the three ONNX Runtime sessions (created once in
/// <see cref="Load"/>, reused by every <see cref="Generate"/>).
/// Thread-safety: one <see cref="Generate"/> at a time per pipeline (the service's worker is the single caller).
/// </summary>
public sealed class StableDiffusionPipeline : IDisposable
{
    private readonly ModelFolder _folder;
    private readonly SchedulerConfig _schedulerConfig;
    private readonly string _schedulerClassName;
    private readonly OrtSessionFactory _sessions;
    private readonly TextEncoderModel _textEncoder;
    private readonly UNetModel _unet;
    private readonly VaeDecoderModel _vaeDecoder;
    private readonly ILogger _logger;
    private bool _disposed;

    private StableDiffusionPipeline(ModelFolder folder, SchedulerConfig schedulerConfig, ClipTokenizer tokenizer, OrtSessionFactory sessions,
        TextEncoderModel textEncoder, UNetModel unet, VaeDecoderModel vaeDecoder, OrtRunTimer runTimer, ILogger logger)
    {
        _folder = folder;
        _schedulerConfig = schedulerConfig;
        Tokenizer = tokenizer;
        _sessions = sessions;
        _textEncoder = textEncoder;
        _unet = unet;
        _vaeDecoder = vaeDecoder;
        RunTimer = runTimer;
        _logger = logger;
        // The config's own _class_name picks the default scheduler; older exports only name it in model_index.json.
        var className = schedulerConfig.ClassName ?? folder.IndexSchedulerClassName
            ?? throw new ModelLoadException(folder.SchedulerConfigPath, "names no scheduler class (_class_name), and model_index.json names none either");
        _schedulerClassName = SchedulerFactory.WithoutFlaxPrefix(className);
        var defaultScheduler = SchedulerFactory.TryResolve(_schedulerClassName, out var info) ? info.Id : _schedulerClassName;
        Model = new ModelInfo(folder.Name, folder.Directory, defaultScheduler, tokenizer.MaxLength, sessions.ProviderName);
    }

    /// <summary>What this pipeline runs.</summary>
    public ModelInfo Model { get; }

    /// <summary>The model's CLIP tokenizer (for token counts against <see cref="ModelInfo.TokenizerMaxLength"/>).</summary>
    public ClipTokenizer Tokenizer { get; }

    /// <summary>Time spent inside ONNX Runtime Run calls (for the engine-overhead figure: wall time / this).</summary>
    public OrtRunTimer RunTimer { get; }

    /// <summary>
    /// Opens the model folder (diffusers/Optimum ONNX layout), loads the tokenizer and creates one ONNX Runtime session per
    /// model, checking every input and output against the dtypes and ranks the pipeline can adapt.
    /// </summary>
    /// <exception cref="ModelLoadException">The folder, a component or a JSON file is missing or malformed, a .onnx file is not
    /// ONNX, or a tensor has an unsupported type or rank; the message names the file and what is wrong.</exception>
    /// <exception cref="ExecutionProviderUnavailableException"><see cref="ExecutionProviderKind.Cuda"/> was asked for and CUDA cannot be loaded.</exception>
    public static StableDiffusionPipeline Load(string modelDirectory, PipelineOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        options ??= new PipelineOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.IntraOpThreads);
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<StableDiffusionPipeline>();
        var start = Stopwatch.GetTimestamp();

        var folder = ModelFolder.Open(modelDirectory);
        var schedulerConfig = ParseSchedulerConfig(folder);
        var tokenizer = ClipTokenizer.Load(folder.TokenizerDirectory);
        var runTimer = new OrtRunTimer();
        var sessions = OrtSessionFactory.Create(options.ExecutionProvider, options.IntraOpThreads, options.Session, options.Cuda, logger);
        // The graphs may come from an optimised copy; names, configs and the tokenizer stay the user's folder's. A copy
        // that does not load falls back to the folder's own graphs (with a warning), as a copy that cannot be made does.
        var graphs = options.Optimize == ModelOptimization.Auto ? OptimizedGraphs(folder, options, sessions.ProviderName, logger) : folder;
        try
        {
            while (true)
            {
                TextEncoderModel? textEncoder = null;
                UNetModel? unet = null;
                VaeDecoderModel? vaeDecoder = null;
                try
                {
                    textEncoder = TextEncoderModel.Load(sessions, graphs.TextEncoderPath, runTimer);
                    if (textEncoder.SequenceLength is { } sequence && sequence != tokenizer.MaxLength)
                    {
                        throw new ModelLoadException(folder.TextEncoderPath,
                            $"input 'input_ids' has a fixed sequence length of {sequence} but the tokenizer's model_max_length is {tokenizer.MaxLength}");
                    }
                    unet = UNetModel.Load(sessions, graphs.UNetPath, runTimer);
                    vaeDecoder = VaeDecoderModel.Load(sessions, graphs.VaeDecoderPath, runTimer);
                    var pipeline = new StableDiffusionPipeline(folder, schedulerConfig, tokenizer, sessions, textEncoder, unet, vaeDecoder, runTimer, logger);
                    PipelineLog.ModelLoaded(logger, folder.Name, folder.Directory, sessions.ProviderName,
                        (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds, pipeline.Model.DefaultScheduler);
                    return pipeline;
                }
                catch (ModelLoadException ex) when (!ReferenceEquals(graphs, folder))
                {
                    vaeDecoder?.Dispose();
                    unet?.Dispose();
                    textEncoder?.Dispose();
                    PipelineLog.OptimizationFailed(logger, folder.Name, ex.Message);
                    graphs = folder;
                }
                catch
                {
                    vaeDecoder?.Dispose();
                    unet?.Dispose();
                    textEncoder?.Dispose();
                    throw;
                }
            }
        }
        catch
        {
            sessions.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Generates one image per request in one batch. Requests share width, height, steps and scheduler; prompts, negative
    /// prompts, seeds, guidance and RNG may differ. Image i equals request i run alone (up to float rounding in the models):
    /// each image has its own scheduler instance and its own noise stream <c>NoiseSources.Create(request.Rng, request.Seed)</c>.
    /// </summary>
    /// <param name="batch">The requests; the result has the same order.</param>
    /// <param name="progress">Told after every denoising step (called on the generating thread).</param>
    /// <param name="cancellationToken">Checked between steps; a Run in flight is aborted through ONNX Runtime's terminate flag.</param>
    /// <returns>New images the caller owns.</returns>
    /// <exception cref="ArgumentException">A request is invalid (the message names the field and value) or the requests differ in
    /// width, height, steps or scheduler, or the scheduler name is unknown.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IReadOnlyList<GeneratedImage> Generate(IReadOnlyList<GenerationRequest> batch, IProgress<StepProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);

        // 1. Check inputs.
        GenerationBatchValidator.Validate(batch, _unet.FixedLatentHeight, _unet.FixedLatentWidth);
        cancellationToken.ThrowIfCancellationRequested();
        var first = batch[0];
        var batchSize = batch.Count;
        var latentHeight = first.Height / 8;
        var latentWidth = first.Width / 8;
        var latentLength = _unet.LatentChannels * latentHeight * latentWidth;
        // Classifier-free guidance doubles the UNet batch as [uncond; cond]; with every scale ≤ 1 the uncond half is skipped.
        var doGuidance = false;
        for (var i = 0; i < batchSize; i++) doGuidance |= batch[i].GuidanceScale > 1f;
        var unetBatch = doGuidance ? 2 * batchSize : batchSize;
        var condOffset = doGuidance ? batchSize : 0;
        var schedulerName = first.Scheduler ?? _schedulerClassName;
        if (!SchedulerFactory.TryResolve(schedulerName, out var scheduler))
        {
            throw new ArgumentException($"scheduler must be one of {SchedulerFactory.AcceptedNames()} but was '{schedulerName}'", nameof(batch));
        }
        PipelineLog.GenerationStarted(_logger, batchSize, first.Width, first.Height, first.Steps, scheduler.Id, doGuidance);
        var start = Stopwatch.GetTimestamp();

        using var runOptions = new RunOptions();
        using var terminateOnCancel = cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, runOptions);
        // The large per-generation buffers are rented once per generation and returned in finally (they may be longer
        // than asked; every use below slices them to the exact length). Only the images' RGB arrays leave this method.
        float[]? hiddenStates = null;
        float[]? latentsBuffer = null;
        float[]? unetInputBuffer = null;
        float[]? unetOutputBuffer = null;
        float[]? pixelsBuffer = null;
        try
        {
            // 2. Encode the prompts once per generation: rows [negative_0..n-1 ; prompt_0..n-1].
            int hiddenSize;
            using (var activity = DiffusionTelemetry.Source.StartActivity(DiffusionTelemetry.TextEncodeActivity))
            {
                activity?.SetTag("diffusion.batch_size", batchSize);
                hiddenStates = EncodePrompts(batch, doGuidance, runOptions, out hiddenSize);
            }

            // 3. Timesteps: one scheduler instance per image (schedulers keep per-run state).
            var schedulers = new IScheduler[batchSize];
            for (var i = 0; i < batchSize; i++)
            {
                schedulers[i] = SchedulerFactory.Create(scheduler, _schedulerConfig);
                schedulers[i].SetTimesteps(first.Steps);
            }
            var timesteps = schedulers[0].Timesteps;

            // 4. Latents = noise · init_noise_sigma, each image from its own seeded stream (which the stochastic
            //    schedulers continue), so an image does not depend on the batch it runs in.
            var noise = new INoiseSource[batchSize];
            latentsBuffer = ArrayPool<float>.Shared.Rent(batchSize * latentLength);
            var latents = latentsBuffer.AsSpan(0, batchSize * latentLength);
            for (var i = 0; i < batchSize; i++)
            {
                noise[i] = NoiseSources.Create(batch[i].Rng, batch[i].Seed);
                var latent = latents.Slice(i * latentLength, latentLength);
                noise[i].Fill(latent);
                TensorPrimitives.Multiply(latent, schedulers[i].InitNoiseSigma, latent);
            }

            // 5. Denoising loop.
            unetInputBuffer = ArrayPool<float>.Shared.Rent(unetBatch * latentLength);
            unetOutputBuffer = ArrayPool<float>.Shared.Rent(unetBatch * latentLength);
            var unetInput = unetInputBuffer.AsSpan(0, unetBatch * latentLength);
            var unetOutput = unetOutputBuffer.AsSpan(0, unetBatch * latentLength);
            using (var activity = DiffusionTelemetry.Source.StartActivity(DiffusionTelemetry.DenoiseActivity))
            using (var unet = _unet.Bind(unetInputBuffer, hiddenStates, unetOutputBuffer, unetBatch, latentHeight, latentWidth, Tokenizer.MaxLength, hiddenSize))
            {
                activity?.SetTag("diffusion.batch_size", batchSize);
                activity?.SetTag("diffusion.unet_batch_size", unetBatch);
                activity?.SetTag("diffusion.steps", timesteps.Count);
                activity?.SetTag("diffusion.scheduler", scheduler.Id);
                for (var step = 0; step < timesteps.Count; step++)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        PipelineLog.GenerationCancelled(_logger, batchSize, step);
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                    var stepStart = Stopwatch.GetTimestamp();

                    // 5a. scale_model_input, expanded to [uncond; cond] for guidance.
                    for (var i = 0; i < batchSize; i++)
                    {
                        var cond = unetInput.Slice((condOffset + i) * latentLength, latentLength);
                        latents.Slice(i * latentLength, latentLength).CopyTo(cond);
                        schedulers[i].ScaleModelInput(cond, step);
                        if (doGuidance) cond.CopyTo(unetInput.Slice(i * latentLength, latentLength));
                    }

                    // 5b. Predict the noise.
                    unet.Run(runOptions, timesteps[step]);

                    // 5c. Guidance per image (noise = u + s·(c − u), in place in the cond half), then the scheduler step x_t → x_{t−1}.
                    for (var i = 0; i < batchSize; i++)
                    {
                        var prediction = unetOutput.Slice((condOffset + i) * latentLength, latentLength);
                        var scale = batch[i].GuidanceScale;
                        if (doGuidance && scale > 1f)
                        {
                            var uncond = unetOutput.Slice(i * latentLength, latentLength);
                            TensorPrimitives.Subtract(prediction, uncond, prediction);
                            TensorPrimitives.MultiplyAdd(prediction, scale, uncond, prediction);
                        }
                        schedulers[i].Step(prediction, step, latents.Slice(i * latentLength, latentLength), noise[i]);
                    }

                    progress?.Report(new StepProgress(step + 1, timesteps.Count, Stopwatch.GetElapsedTime(stepStart)));
                }
            }
            cancellationToken.ThrowIfCancellationRequested();

            // 6. Decode latents / scaling_factor with the VAE.
            pixelsBuffer = ArrayPool<float>.Shared.Rent(batchSize * 3 * first.Width * first.Height);
            using (var activity = DiffusionTelemetry.Source.StartActivity(DiffusionTelemetry.VaeDecodeActivity))
            {
                activity?.SetTag("diffusion.batch_size", batchSize);
                TensorPrimitives.Divide(latents, _folder.VaeScalingFactor, latents);
                _vaeDecoder.Decode(runOptions, latentsBuffer, pixelsBuffer, batchSize, latentHeight, latentWidth);
            }

            // 7. Pixels: round(clamp(x/2 + 0.5, 0, 1) · 255), interleaved RGB.
            var images = new GeneratedImage[batchSize];
            var imageLength = 3 * first.Width * first.Height;
            for (var i = 0; i < batchSize; i++)
            {
                var rgb = PixelConverter.ToRgb(pixelsBuffer.AsSpan(i * imageLength, imageLength), first.Width, first.Height);
                images[i] = new GeneratedImage(batch[i], first.Width, first.Height, rgb);
            }
            PipelineLog.GenerationCompleted(_logger, batchSize, (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            return images;
        }
        catch (OnnxRuntimeException ex) when (cancellationToken.IsCancellationRequested)
        {
            // The terminate flag aborted a Run in flight.
            throw new OperationCanceledException("generation was cancelled while a model was running", ex, cancellationToken);
        }
        finally
        {
            if (pixelsBuffer is not null) ArrayPool<float>.Shared.Return(pixelsBuffer);
            if (unetOutputBuffer is not null) ArrayPool<float>.Shared.Return(unetOutputBuffer);
            if (unetInputBuffer is not null) ArrayPool<float>.Shared.Return(unetInputBuffer);
            if (latentsBuffer is not null) ArrayPool<float>.Shared.Return(latentsBuffer);
            if (hiddenStates is not null) ArrayPool<float>.Shared.Return(hiddenStates);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _vaeDecoder.Dispose();
        _unet.Dispose();
        _textEncoder.Dispose();
        _sessions.Dispose();
    }

    /// <summary>
    /// Tokenizes and encodes [negative prompts; prompts] (prompts only without guidance) into [rows, 77, hidden] float32,
    /// in an array rented from <see cref="ArrayPool{T}.Shared"/> that the caller returns.
    /// </summary>
    private float[] EncodePrompts(IReadOnlyList<GenerationRequest> batch, bool doGuidance, RunOptions runOptions, out int hiddenSize)
    {
        var sequence = Tokenizer.MaxLength;
        var rows = doGuidance ? 2 * batch.Count : batch.Count;
        var condOffset = doGuidance ? batch.Count : 0;
        var ids = new long[rows * sequence];
        for (var i = 0; i < batch.Count; i++)
        {
            if (doGuidance) Tokenizer.EncodePadded(batch[i].NegativePrompt, ids.AsSpan(i * sequence, sequence));
            Tokenizer.EncodePadded(batch[i].Prompt, ids.AsSpan((condOffset + i) * sequence, sequence));
        }
        return _textEncoder.Encode(runOptions, ids, rows, sequence, out hiddenSize);
    }

    /// <summary>
    /// The optimised copy of <paramref name="folder"/> for the provider the sessions run on (written on first use), or
    /// the folder itself, with a warning, when optimising fails: an optimisation problem must not stop a model that
    /// loads as it is.
    /// </summary>
    private static ModelFolder OptimizedGraphs(ModelFolder folder, PipelineOptions options, string provider, ILogger logger)
    {
        var cache = options.OptimizedModelCache
            ?? throw new ArgumentException("PipelineOptions.OptimizedModelCache is required with ModelOptimization.Auto", nameof(options));
        var target = provider == "CUDA"
            ? new OptimizationOptions { Target = OptimizationTarget.Cuda, Float16 = true }
            : new OptimizationOptions { Target = OptimizationTarget.Cpu };
        var start = Stopwatch.GetTimestamp();
        try
        {
            var directory = OptimizedModelCache.GetOrCreate(folder.Directory, cache, target, out var written);
            PipelineLog.UsingOptimizedGraphs(logger, folder.Name, target.Describe(), directory, written, (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            return ModelFolder.Open(directory);
        }
        catch (Exception ex) when (ex is ModelLoadException or IOException or UnauthorizedAccessException or NotSupportedException or InvalidOperationException)
        {
            PipelineLog.OptimizationFailed(logger, folder.Name, ex.Message);
            return folder;
        }
    }

    private static SchedulerConfig ParseSchedulerConfig(ModelFolder folder)
    {
        try
        {
            return SchedulerConfig.FromJson(folder.SchedulerConfigJson);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or ArgumentException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            throw new ModelLoadException(folder.SchedulerConfigPath, $"not a usable scheduler configuration: {ex.Message}", ex);
        }
    }
}
