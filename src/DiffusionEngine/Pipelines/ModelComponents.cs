using System.Diagnostics;
using DiffusionEngine.Models;
using DiffusionEngine.Optimization;
using DiffusionEngine.Runtime;
using DiffusionEngine.Schedulers;
using DiffusionEngine.Text;
using DiffusionEngine.Text.Prompts;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Pipelines;

/// <summary>
/// A loaded model folder: its tokenizers, the ONNX Runtime sessions of its components (created once, reused by every
/// generation), its scheduler config and its detected <see cref="ModelKind"/>. What diffusers' pipelines hold as
/// <c>self.components</c>; every pipeline of the family reads from it. Owns and disposes the sessions.
/// </summary>
internal sealed class ModelComponents : IDisposable
{
    private readonly OrtSessionFactory _sessions;

    /// <summary>Where the .onnx files are read from: <see cref="Folder"/>, or its optimised copy (<see cref="ModelOptimization.Auto"/>).</summary>
    private ModelFolder _graphs;

    private ModelComponents(ModelFolder folder, SchedulerConfig schedulerConfig, OrtSessionFactory sessions, OrtRunTimer runTimer)
    {
        Folder = folder;
        _graphs = folder;
        SchedulerConfig = schedulerConfig;
        _sessions = sessions;
        RunTimer = runTimer;
    }

    public ModelFolder Folder { get; }
    public SchedulerConfig SchedulerConfig { get; }
    public OrtRunTimer RunTimer { get; }
    public string ProviderName => _sessions.ProviderName;
    public ModelKind Kind { get; private set; }
    public ClipTokenizer Tokenizer { get; private set; } = null!;
    public TextEncoderModel TextEncoder { get; private set; } = null!;

    /// <summary>SDXL's second tokenizer (tokenizer_2), null for SD 1.x/2.x kinds.</summary>
    public ClipTokenizer? Tokenizer2 { get; private set; }

    /// <summary>SDXL's CLIPTextModelWithProjection (text_encoder_2), null for SD 1.x/2.x kinds.</summary>
    public TextEncoderModel? TextEncoder2 { get; private set; }

    public UNetModel UNet { get; private set; } = null!;
    public VaeDecoderModel VaeDecoder { get; private set; } = null!;

    /// <summary>The VAE encoder (image-to-image, inpainting), null when the folder has none.</summary>
    public VaeEncoderModel? VaeEncoder { get; private set; }

    /// <exception cref="ModelLoadException">The folder, a component or a JSON file is missing or malformed, a tensor has an
    /// unsupported type or rank, or the folder is no kind the engine serves.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">CUDA was asked for and cannot be loaded.</exception>
    public static ModelComponents Load(string modelDirectory, PipelineOptions options, ILogger logger)
    {
        var folder = ModelFolder.Open(modelDirectory);
        var schedulerConfig = ParseSchedulerConfig(folder);
        var tokenizer = ClipTokenizer.Load(folder.TokenizerDirectory);
        var sessions = OrtSessionFactory.Create(options.ExecutionProvider, options.IntraOpThreads, options.Session, options.Cuda, logger);
        var components = new ModelComponents(folder, schedulerConfig, sessions, new OrtRunTimer()) { Tokenizer = tokenizer };
        try
        {
            // The graphs may come from an optimised copy; names, configs and tokenizers stay the user's folder's. A copy
            // that does not load falls back to the folder's own graphs (with a warning), as a copy that cannot be made does.
            if (options.Optimize == ModelOptimization.Auto) components._graphs = OptimizedGraphs(folder, options, sessions.ProviderName, logger);
            try
            {
                components.LoadSessions();
            }
            catch (ModelLoadException ex) when (!ReferenceEquals(components._graphs, folder))
            {
                PipelineLog.OptimizationFailed(logger, folder.Name, ex.Message);
                components.DisposeSessions();
                components._graphs = folder;
                components.LoadSessions();
            }
            components.PreparePrompts(logger);
            return components;
        }
        catch
        {
            components.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        DisposeSessions();
        _sessions.Dispose();
    }

    private void DisposeSessions()
    {
        VaeEncoder?.Dispose();
        VaeDecoder?.Dispose();
        UNet?.Dispose();
        TextEncoder2?.Dispose();
        TextEncoder?.Dispose();
        (VaeEncoder, VaeDecoder, UNet, TextEncoder2, TextEncoder) = (null, null!, null!, null, null!);
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

    private void LoadSessions()
    {
        TextEncoder = TextEncoderModel.Load(_sessions, _graphs.TextEncoderPath, RunTimer);
        RequireSequenceLength(TextEncoder, Tokenizer);
        UNet = UNetModel.Load(_sessions, _graphs.UNetPath, RunTimer);
        Kind = ModelKindDetector.Detect(Folder.PipelineClassName, UNet.Signature(Folder.UNetConfig.InChannels), SchedulerConfig, Folder.ModelIndexPath, Folder.UNetPath);
        VaeDecoder = VaeDecoderModel.Load(_sessions, _graphs.VaeDecoderPath, RunTimer);
        if (_graphs.VaeEncoderPath is { } encoderPath) VaeEncoder = VaeEncoderModel.Load(_sessions, encoderPath, RunTimer);
        else if (Kind.IsInpaintingUNet())
        {
            throw new ModelLoadException(Path.Combine(Folder.Directory, "vae_encoder", "model.onnx"),
                "the vae_encoder component is missing; an inpainting UNet needs it to encode the masked image");
        }

        if (Kind.IsXL())
        {
            if (!Folder.HasSecondTextEncoder)
            {
                throw new ModelLoadException(File.Exists(Folder.TextEncoder2Path) ? Folder.Tokenizer2Directory : Folder.TextEncoder2Path,
                    "the tokenizer_2/text_encoder_2 component is missing; an SDXL model needs both text encoders");
            }
            Tokenizer2 = ClipTokenizer.Load(Folder.Tokenizer2Directory);
            TextEncoder2 = TextEncoderModel.Load(_sessions, _graphs.TextEncoder2Path, RunTimer, "text_encoder_2");
            RequireSequenceLength(TextEncoder2, Tokenizer2);
            // SDXL conditions on the penultimate hidden states of both encoders and text_encoder_2's pooled output.
            TextEncoder.HiddenStatesOutput(skip: 1);
            TextEncoder2.HiddenStatesOutput(skip: 1);
            if (TextEncoder2.PooledOutputName is null)
            {
                throw new ModelLoadException(Folder.TextEncoder2Path,
                    "the text_encoder_2 model has no 'text_embeds' output; SDXL's UNet takes text_encoder_2's pooled projection as text_embeds");
            }
            if (Tokenizer2.MaxLength != Tokenizer.MaxLength)
            {
                throw new ModelLoadException(Folder.Tokenizer2Directory,
                    $"model_max_length is {Tokenizer2.MaxLength} but tokenizer/'s is {Tokenizer.MaxLength}; SDXL concatenates both encoders' states token by token");
            }
        }
        if (Kind.IsLatentConsistency() && UNet.TimestepCond is { Width: null } && Folder.UNetConfig.TimeCondProjDim is null)
        {
            throw new ModelLoadException(Folder.UNetPath,
                "unet input 'timestep_cond' has a dynamic width and unet/config.json gives no time_cond_proj_dim; the guidance embedding's width must be known");
        }
    }

    /// <summary>The 77-token chunks the UNet's text sequence was exported for, or null when it is dynamic (<see cref="PromptReader.FixedChunks"/>).</summary>
    public int? FixedPromptChunks { get; private set; }

    /// <summary>The largest clip skip the text encoders allow (<see cref="PromptReader.MaxClipSkip"/>).</summary>
    public int MaxClipSkip { get; private set; } = 1;

    /// <summary>Why clip skip is not available, when it is not for lack of hidden states or of the final norm.</summary>
    public string? ClipSkipUnavailable { get; private set; }

    /// <summary>Text that checks the final LayerNorm read from the graph (any text the tokenizer can read will do).</summary>
    private const string NormProbeText = "a photo of a red fox in the snow, detailed";

    /// <summary>
    /// What decides how prompts are read: the UNet's fixed text sequence, if any, in whole chunks; and clip skip's range.
    /// SDXL conditions on hidden_states without a norm, so clip skip N needs hidden_states[-(N+1)] of both encoders
    /// (down to the first layer's output). SD 1.x/2.x needs hidden_states[-N] and the final LayerNorm to put it through,
    /// read from the graph and checked against last_hidden_state here, once.
    /// </summary>
    private void PreparePrompts(ILogger logger)
    {
        if (UNet.FixedSequenceLength is { } sequence)
        {
            if (sequence % Tokenizer.MaxLength != 0)
            {
                throw new ModelLoadException(Folder.UNetPath,
                    $"unet input 'encoder_hidden_states' has a fixed sequence length of {sequence}, which is not a whole number of the tokenizer's {Tokenizer.MaxLength}-token windows");
            }
            FixedPromptChunks = sequence / Tokenizer.MaxLength;
        }

        if (Kind.IsXL())
        {
            // Both encoders' hidden states were required at load; hidden_states.1 is the deepest layer clip skip goes to.
            MaxClipSkip = Math.Max(1, Math.Min(TextEncoder.HiddenLayerCount!.Value, TextEncoder2!.HiddenLayerCount!.Value) - 1);
            return;
        }

        using var runOptions = new RunOptions();
        var probe = PromptTokenizer.Tokenize(NormProbeText, Tokenizer, PromptSyntax.Plain).Chunks[0];
        ClipSkipUnavailable = TextEncoder.LoadFinalLayerNorm(probe.Ids, TextEncoderLayerNormEpsilon(), runOptions);
        if (ClipSkipUnavailable is null) MaxClipSkip = TextEncoder.HiddenLayerCount!.Value;
        else if (TextEncoder.HiddenLayerCount is not null) PipelineLog.ClipSkipUnavailable(logger, Folder.Name, ClipSkipUnavailable);
    }

    /// <summary>text_encoder/config.json's layer_norm_eps (transformers' CLIPTextConfig), when the file has it.</summary>
    private float? TextEncoderLayerNormEpsilon()
    {
        var path = Path.Combine(Path.GetDirectoryName(Folder.TextEncoderPath)!, "config.json");
        try
        {
            using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
            return config.RootElement.TryGetProperty("layer_norm_eps", out var epsilon) && epsilon.TryGetSingle(out var value) ? value : null;
        }
        catch (Exception ex) when (ex is IOException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Width of an LCM UNet's guidance embedding: timestep_cond's fixed width, else unet/config.json's time_cond_proj_dim.</summary>
    public int TimestepCondWidth => UNet.TimestepCond?.Width ?? Folder.UNetConfig.TimeCondProjDim ?? 0;

    private void RequireSequenceLength(TextEncoderModel encoder, ClipTokenizer tokenizer)
    {
        if (encoder.SequenceLength is { } sequence && sequence != tokenizer.MaxLength)
        {
            throw new ModelLoadException(encoder.ModelPath,
                $"input 'input_ids' has a fixed sequence length of {sequence} but the tokenizer's model_max_length is {tokenizer.MaxLength}");
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
