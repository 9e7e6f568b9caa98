using DiffusionEngine.TinyModel.Graphs;
using DiffusionEngine.TinyModel.Onnx;
using DiffusionEngine.TinyModel.Vocabulary;

namespace DiffusionEngine.TinyModel;

/// <summary>
/// Writes a complete model folder in the diffusers/Optimum ONNX layout, with the real architecture of its kind (CLIP
/// text transformers, conditional UNet, VAE) at toy scale or at SD 1.5's or SDXL's size, deterministic pseudo-random
/// weights and its own small CLIP-format BPE vocabulary. Same options ⇒ byte-identical files. The <c>tiny</c> preset is
/// the built-in default model (no download needed); the presets and options together are the test fixtures for every
/// model kind and model-folder variant the loader must accept.
/// </summary>
public static class TinyModelBuilder
{
    /// <summary>Folder name of the default model under &lt;data directory&gt;/models.</summary>
    public const string DefaultModelName = "tiny-sd";

    /// <summary>File name of external weights beside each model.onnx (Optimum's and onnx.save's convention).</summary>
    public const string ExternalDataFileName = "model.onnx_data";

    // One fixed seed per component; the data type does not change the weights, only how they are rounded.
    private const ulong TextEncoderSeed = 0x7E47_0001UL;
    private const ulong UNetSeed = 0x7E47_0002UL;
    private const ulong VaeDecoderSeed = 0x7E47_0003UL;
    private const ulong VaeEncoderSeed = 0x7E47_0004UL;
    private const ulong TextEncoder2Seed = 0x7E47_0005UL;

    /// <summary>
    /// Writes the model folder into <paramref name="outputDirectory"/> (created if missing; files of the same names are
    /// replaced): model_index.json, scheduler/, tokenizer/, text_encoder/, unet/, vae_decoder/, vae_encoder/, and for the
    /// SDXL presets tokenizer_2/ and text_encoder_2/. The tiny presets take well under a second;
    /// <see cref="TinyModelPreset.Sd15"/> streams about 4 GB (2 GB in float16) and <see cref="TinyModelPreset.Sdxl"/>
    /// about 14 GB (7 GB in float16) of weights to external data files without holding them in memory.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="outputDirectory"/> is empty.</exception>
    /// <exception cref="IOException">A file cannot be written.</exception>
    public static void Write(string outputDirectory, TinyModelOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        ArgumentNullException.ThrowIfNull(options);

        var preset = options.Preset;
        var (textArch, text2Arch, unetArch, vaeArch) = Architectures(preset);
        var ioType = options.DataType == ModelDataType.Float16 ? OnnxElementType.Float16 : OnnxElementType.Float;
        // A float16 model computes in float16 like a real fp16 export; ONNX Runtime's CPU provider runs it by inserting
        // float32 Casts around the ops it has no float16 kernel for.
        var computeType = ioType;
        var idsType = options.InputIds == InputIdsType.Int64 ? OnnxElementType.Int64 : OnnxElementType.Int32;
        var external = options.ExternalData || preset.IsFullSize();
        var hiddenStates = options.TextEncoderHiddenStates || preset.IsXL();

        Directory.CreateDirectory(outputDirectory);
        ModelConfigFiles.WriteModelIndex(Path.Combine(outputDirectory, "model_index.json"), preset);

        var schedulerDirectory = CreateSubdirectory(outputDirectory, "scheduler");
        File.WriteAllText(Path.Combine(schedulerDirectory, "scheduler_config.json"), ModelConfigFiles.SchedulerConfigFor(preset));

        var vocabulary = ClipVocabularyFiles.Build();
        vocabulary.Write(CreateSubdirectory(outputDirectory, "tokenizer"));
        // CLIP's vocabulary needs 49,408 rows in the embedding for the real parameter counts; our tokens use the first ones.
        var embeddingRows = preset.IsFullSize() ? 49408 : vocabulary.VocabularySize;

        var textDirectory = CreateSubdirectory(outputDirectory, "text_encoder");
        WriteGraph(TextEncoderGraph.Build(textArch, embeddingRows, idsType, ioType, computeType, TextEncoderSeed, hiddenStates), textDirectory, external);
        ModelConfigFiles.WriteTextEncoderConfig(Path.Combine(textDirectory, "config.json"), textArch, embeddingRows,
            vocabulary.VocabularySize - 2, vocabulary.VocabularySize - 1, options.DataType);

        if (text2Arch is not null)
        {
            // SDXL's tokenizer_2 is OpenCLIP's, which pads with "!" instead of the end-of-text token.
            vocabulary.Write(CreateSubdirectory(outputDirectory, "tokenizer_2"), padToken: "!");
            var text2Directory = CreateSubdirectory(outputDirectory, "text_encoder_2");
            WriteGraph(TextEncoderGraph.Build(text2Arch, embeddingRows, idsType, ioType, computeType, TextEncoder2Seed, hiddenStates), text2Directory, external);
            ModelConfigFiles.WriteTextEncoderConfig(Path.Combine(text2Directory, "config.json"), text2Arch, embeddingRows,
                vocabulary.VocabularySize - 2, vocabulary.VocabularySize - 1, options.DataType);
        }

        var unetDirectory = CreateSubdirectory(outputDirectory, "unet");
        WriteGraph(UNetGraph.Build(unetArch, ioType, computeType, options.Timestep, UNetSeed, options.StaticTextSequence ? textArch.MaxPositionEmbeddings : null),
            unetDirectory, external);
        ModelConfigFiles.WriteUNetConfig(Path.Combine(unetDirectory, "config.json"), unetArch);

        var decoderDirectory = CreateSubdirectory(outputDirectory, "vae_decoder");
        WriteGraph(VaeGraph.BuildDecoder(vaeArch, ioType, computeType, VaeDecoderSeed), decoderDirectory, external);
        ModelConfigFiles.WriteVaeConfig(Path.Combine(decoderDirectory, "config.json"), vaeArch);

        var encoderDirectory = CreateSubdirectory(outputDirectory, "vae_encoder");
        WriteGraph(VaeGraph.BuildEncoder(vaeArch, ioType, computeType, VaeEncoderSeed, options.VaeEncoderOutput), encoderDirectory, external);
        ModelConfigFiles.WriteVaeConfig(Path.Combine(encoderDirectory, "config.json"), vaeArch);
    }

    /// <summary>The text encoder(s), UNet and VAE of a preset (the second text encoder only for SDXL).</summary>
    private static (TextEncoderArchitecture Text, TextEncoderArchitecture? Text2, UNetArchitecture UNet, VaeArchitecture Vae) Architectures(TinyModelPreset preset) =>
        preset switch
        {
            TinyModelPreset.Tiny => (TextEncoderArchitecture.Tiny, null, UNetArchitecture.Tiny, VaeArchitecture.Tiny),
            TinyModelPreset.Sd15 => (TextEncoderArchitecture.Sd15, null, UNetArchitecture.Sd15, VaeArchitecture.Sd15),
            TinyModelPreset.TinySdxl => (TextEncoderArchitecture.Tiny, TextEncoderArchitecture.TinyWithProjection, UNetArchitecture.TinyXL,
                VaeArchitecture.Tiny with { ScalingFactor = VaeArchitecture.Sdxl.ScalingFactor }),
            TinyModelPreset.TinyInpaint => (TextEncoderArchitecture.Tiny, null, UNetArchitecture.Tiny with { InChannels = 9 }, VaeArchitecture.Tiny),
            TinyModelPreset.TinyLcm => (TextEncoderArchitecture.Tiny, null, UNetArchitecture.Tiny with { TimeCondProjDim = 32 }, VaeArchitecture.Tiny),
            TinyModelPreset.Sdxl => (TextEncoderArchitecture.Sd15, TextEncoderArchitecture.SdxlBigG, UNetArchitecture.Sdxl, VaeArchitecture.Sdxl),
            _ => throw new ArgumentOutOfRangeException(nameof(preset), preset, "unknown preset"),
        };

    /// <summary>
    /// Returns the default tiny model folder, &lt;<paramref name="dataDirectory"/>&gt;/models/tiny-sd, writing it first
    /// if it does not exist. The folder is written under a temporary name and renamed into place, so a crash or a
    /// concurrent caller never leaves (or sees) a half-written model.
    /// </summary>
    /// <param name="dataDirectory">The data directory; the model goes under its models/ folder.</param>
    /// <param name="writing">Called with the model folder before it is written (so a first start can say so); not called when it exists.</param>
    /// <exception cref="ArgumentException"><paramref name="dataDirectory"/> is empty.</exception>
    /// <exception cref="IOException">The folder cannot be created.</exception>
    public static string EnsureDefault(string dataDirectory, Action<string>? writing = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        var modelsDirectory = Path.Combine(Path.GetFullPath(dataDirectory), "models");
        var target = Path.Combine(modelsDirectory, DefaultModelName);
        if (File.Exists(Path.Combine(target, "model_index.json"))) return target;

        writing?.Invoke(target);
        Directory.CreateDirectory(modelsDirectory);
        var temporary = Path.Combine(modelsDirectory, $".{DefaultModelName}.{Guid.NewGuid():N}.tmp");
        try
        {
            Write(temporary, new TinyModelOptions());
            Directory.Move(temporary, target);
        }
        catch (IOException) when (File.Exists(Path.Combine(target, "model_index.json")))
        {
            // Another process finished first; its folder is identical to ours.
        }
        finally
        {
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        }
        return target;
    }

    private static string CreateSubdirectory(string root, string name)
    {
        var path = Path.Combine(root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    private static void WriteGraph(OnnxGraph graph, string directory, bool externalData)
    {
        var stale = Path.Combine(directory, ExternalDataFileName);
        if (!externalData && File.Exists(stale)) File.Delete(stale);
        OnnxModelWriter.Write(graph, Path.Combine(directory, "model.onnx"), externalData ? ExternalDataFileName : null);
    }
}
