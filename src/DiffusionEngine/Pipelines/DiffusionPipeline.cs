using System.Diagnostics;
using DiffusionEngine.Models;
using DiffusionEngine.Runtime;
using DiffusionEngine.Schedulers;
using DiffusionEngine.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines;

/// <summary>
/// A loaded model and the pipeline its kind calls for, as diffusers' <c>DiffusionPipeline.from_pretrained</c> picks one
/// from model_index.json: <see cref="StableDiffusionPipeline"/> (SD 1.x/2.x, SD-Turbo, SD inpainting UNets),
/// <see cref="StableDiffusionXLPipeline"/> (SDXL, SDXL-Turbo, SDXL inpainting) or
/// <see cref="LatentConsistencyModelPipeline"/> (LCM). Each of them runs text-to-image, image-to-image and inpainting
/// as far as the model's <see cref="ModelInfo.Capabilities"/> go, sharing the components (the ONNX Runtime sessions,
/// created once in <see cref="Load"/>) between modes, as diffusers' AutoPipeline classes do.
/// Thread-safety: one <see cref="Generate"/> at a time per instance (the service's worker is the single caller);
/// <see cref="BatchKeyFor"/>, <see cref="Model"/> and <see cref="Tokenizer"/> may be used concurrently with it.
/// </summary>
public sealed class DiffusionPipeline : IDisposable
{
    private readonly ModelComponents _components;
    private readonly IDiffusionPipeline _pipeline;
    private readonly ILogger _logger;
    private bool _disposed;

    private DiffusionPipeline(ModelComponents components, PipelineOptions options, ILogger logger)
    {
        _components = components;
        _logger = logger;
        Model = Describe(components, options);
        _pipeline = components.Kind switch
        {
            _ when components.Kind.IsLatentConsistency() => new LatentConsistencyModelPipeline(components),
            _ when components.Kind.IsXL() => new StableDiffusionXLPipeline(components),
            _ => new StableDiffusionPipeline(components),
        };
    }

    /// <summary>What this pipeline runs: name, kind, capabilities and defaults.</summary>
    public ModelInfo Model { get; }

    /// <summary>The model's (first) CLIP tokenizer (for token counts against <see cref="ModelInfo.TokenizerMaxLength"/>).</summary>
    public ClipTokenizer Tokenizer => _components.Tokenizer;

    /// <summary>Time spent inside ONNX Runtime Run calls (for the engine-overhead figure: wall time / this).</summary>
    public OrtRunTimer RunTimer => _components.RunTimer;

    /// <summary>
    /// Opens the model folder (diffusers/Optimum ONNX layout), detects its kind (<see cref="ModelKindDetector"/>), loads the
    /// tokenizers and creates one ONNX Runtime session per component, checking every input and output against the dtypes
    /// and ranks the pipelines can adapt.
    /// </summary>
    /// <exception cref="ModelLoadException">The folder, a component or a JSON file is missing or malformed, a .onnx file is not
    /// ONNX, a tensor has an unsupported type or rank, or the folder is a pipeline class or UNet the engine does not serve;
    /// the message names the file and what is wrong.</exception>
    /// <exception cref="ExecutionProviderUnavailableException"><see cref="ExecutionProviderKind.Cuda"/> was asked for and CUDA cannot be loaded.</exception>
    public static DiffusionPipeline Load(string modelDirectory, PipelineOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        options ??= new PipelineOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.IntraOpThreads);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPromptChunks, 1);
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<DiffusionPipeline>();
        var start = Stopwatch.GetTimestamp();
        var components = ModelComponents.Load(modelDirectory, options, logger);
        var pipeline = new DiffusionPipeline(components, options, logger);
        PipelineLog.ModelLoaded(logger, components.Folder.Name, components.Folder.Directory, components.ProviderName,
            (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds, pipeline.Model.DefaultScheduler, pipeline.Model.Kind.Id());
        return pipeline;
    }

    /// <summary>The key <paramref name="request"/> batches under on this model (<see cref="BatchKey.For"/>).</summary>
    /// <exception cref="ArgumentException">The model cannot run the request (see <see cref="BatchKey.For"/>).</exception>
    public BatchKey BatchKeyFor(GenerationRequest request) => BatchKey.For(request, Model);

    /// <summary>
    /// Generates one image per request in one batch. The requests share a <see cref="BatchKey"/> (size, steps, scheduler,
    /// mode, first step, unconditional pass); prompts, negative prompts, seeds, guidance, RNG, init images and masks may
    /// differ. Image i equals request i run alone (up to float rounding in the models): each image has its own scheduler
    /// instance and its own noise stream <c>NoiseSources.Create(request.Rng, request.Seed)</c>, which draws (as diffusers
    /// with one generator per image) the init image's VAE sample first, then the initial noise, then the masked image's
    /// VAE sample, then the stochastic schedulers' step noise.
    /// </summary>
    /// <param name="batch">The requests; the result has the same order.</param>
    /// <param name="progress">Told after every denoising step (called on the generating thread).</param>
    /// <param name="cancellationToken">Checked between steps; a Run in flight is aborted through ONNX Runtime's terminate flag.</param>
    /// <returns>New images the caller owns.</returns>
    /// <exception cref="ArgumentException">A request is invalid (the message names the field and value), the requests' batch
    /// keys differ (the message names the field), the scheduler name is unknown, or the model cannot run the request's mode.</exception>
    /// <exception cref="NonFiniteImageException">The VAE decoded NaN or infinite values (the float16 SDXL VAE overflow).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IReadOnlyList<GeneratedImage> Generate(IReadOnlyList<GenerationRequest> batch, IProgress<StepProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);

        // 1. Check inputs: every request valid, one batch key for all; the prompts tokenized once.
        var prepared = Prepare(batch);
        var key = prepared.Key;
        cancellationToken.ThrowIfCancellationRequested();
        PipelineLog.GenerationStarted(_logger, batch.Count, key.Width, key.Height, key.Steps, key.Scheduler, key.UnconditionalPass, key.Mode.Id());
        var start = Stopwatch.GetTimestamp();

        using var runOptions = new RunOptions();
        using var terminateOnCancel = cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, runOptions);
        try
        {
            var images = _pipeline.Generate(prepared, runOptions, progress, cancellationToken);
            PipelineLog.GenerationCompleted(_logger, batch.Count, (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            return images;
        }
        catch (OperationCanceledException ex) when (ex.CancellationToken == cancellationToken)
        {
            PipelineLog.GenerationCancelled(_logger, batch.Count);
            throw;
        }
        catch (OnnxRuntimeException ex) when (cancellationToken.IsCancellationRequested)
        {
            // The terminate flag aborted a Run in flight.
            PipelineLog.GenerationCancelled(_logger, batch.Count);
            throw new OperationCanceledException("generation was cancelled while a model was running", ex, cancellationToken);
        }
    }

    /// <summary>Step 1 of every generation: checks the batch, computes its key and tokenizes its prompts.</summary>
    /// <exception cref="ArgumentException">As <see cref="Generate"/>.</exception>
    internal PreparedBatch Prepare(IReadOnlyList<GenerationRequest> batch)
    {
        var key = GenerationBatchValidator.Validate(batch, Model, _components.UNet.FixedLatentHeight, _components.UNet.FixedLatentWidth, out var prompts);
        SchedulerFactory.TryResolve(key.Scheduler, out var scheduler);
        return new PreparedBatch(batch, key, scheduler!, prompts);
    }

    /// <summary>The loaded components' declared inputs and outputs (text encoders, UNet, VAE decoder and encoder).</summary>
    public IReadOnlyList<ComponentSignature> ComponentSignatures()
    {
        var signatures = new List<ComponentSignature> { _components.TextEncoder.Signature() };
        if (_components.TextEncoder2 is { } second) signatures.Add(second.Signature());
        signatures.Add(_components.UNet.Signature());
        signatures.Add(_components.VaeDecoder.Signature());
        if (_components.VaeEncoder is { } encoder) signatures.Add(encoder.Signature());
        return signatures;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _components.Dispose();
    }

    /// <summary>Kind, capabilities, defaults and prompt reading of the loaded components.</summary>
    private static ModelInfo Describe(ModelComponents components, PipelineOptions options)
    {
        var folder = components.Folder;
        // The config's own _class_name picks the default scheduler; older exports only name it in model_index.json.
        var className = components.SchedulerConfig.ClassName ?? folder.IndexSchedulerClassName
            ?? throw new ModelLoadException(folder.SchedulerConfigPath, "names no scheduler class (_class_name), and model_index.json names none either");
        var schedulerClassName = SchedulerFactory.WithoutFlaxPrefix(className);
        var defaultScheduler = SchedulerFactory.TryResolve(schedulerClassName, out var info) ? info.Id : schedulerClassName;

        var kind = components.Kind;
        var capabilities = new List<GenerationMode>(3);
        if (!kind.IsInpaintingUNet()) capabilities.Add(GenerationMode.TextToImage);
        if (components.VaeEncoder is not null && !kind.IsLatentConsistency())
        {
            if (!kind.IsInpaintingUNet()) capabilities.Add(GenerationMode.ImageToImage);
            capabilities.Add(GenerationMode.Inpaint);
        }

        var (steps, guidance) = kind switch
        {
            _ when kind.IsTurbo() => (1, 0f),
            _ when kind.IsLatentConsistency() => (4, 8.5f),
            _ when kind.IsXL() => (20, 5f),
            _ => (20, 7.5f),
        };
        var (width, height) = NativeSize(components);
        return new ModelInfo(folder.Name, folder.Directory, defaultScheduler, components.Tokenizer.MaxLength, components.ProviderName)
        {
            Kind = kind,
            Capabilities = capabilities.AsReadOnly(),
            Defaults = new ModelDefaults(width, height, steps, guidance, defaultScheduler),
            SchedulerConfig = components.SchedulerConfig,
            Prompts = new PromptReader(components.Tokenizer, components.Tokenizer2, options.MaxPromptChunks, components.FixedPromptChunks,
                components.MaxClipSkip, components.ClipSkipUnavailable),
        };
    }

    /// <summary>The UNet's fixed latent size × 8, else unet/config.json's sample_size × 8, else 1024² for SDXL and 512² otherwise.</summary>
    private static (int Width, int Height) NativeSize(ModelComponents components)
    {
        var unet = components.UNet;
        if (unet.FixedLatentHeight is { } fixedHeight && unet.FixedLatentWidth is { } fixedWidth) return (fixedWidth * 8, fixedHeight * 8);
        if (components.Folder.UNetConfig.SampleSize is { } sampleSize) return (sampleSize * 8, sampleSize * 8);
        var size = components.Kind.IsXL() ? 1024 : 512;
        return (size, size);
    }
}
