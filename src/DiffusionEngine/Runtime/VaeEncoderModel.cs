using DiffusionEngine.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionEngine.Runtime;

/// <summary>
/// The VAE encoder: <c>sample</c> float32/float16 [batch, 3, H, W] in [-1, 1] → either <c>latent_parameters</c>
/// [batch, 8, H/8, W/8], the latent distribution's mean ‖ log-variance (Optimum's VaeEncoderOnnxConfig), or
/// <c>latent_sample</c> [batch, 4, H/8, W/8] (diffusers' conversion script, which exports a sample or the mean): the
/// engine takes that as the latent itself. Runs once per generation, so it may allocate.
/// </summary>
internal sealed class VaeEncoderModel : OnnxComponent
{
    public const string SampleName = "sample";
    public const string LatentParametersName = "latent_parameters";
    public const string LatentSampleName = "latent_sample";

    private readonly string[] _inputNames = [SampleName];
    private readonly string[] _outputNames;
    private readonly TensorElementType _inputType;
    private readonly TensorElementType _outputType;

    private VaeEncoderModel(InferenceSession session, string modelPath, OrtRunTimer timer)
        : base(session, modelPath, "vae_encoder", timer)
    {
        var sample = RequireInput(SampleName);
        RequireTensor("input", SampleName, sample, FloatTypes, [4], "float32 or float16 [batch, 3, height, width]");
        RejectUnknownInputs(SampleName);

        string outputName;
        NodeMetadata output;
        if (Session.OutputMetadata.TryGetValue(LatentParametersName, out var parameters)) (outputName, output) = (LatentParametersName, parameters);
        else if (Session.OutputMetadata.TryGetValue(LatentSampleName, out var latent)) (outputName, output) = (LatentSampleName, latent);
        else (outputName, output) = RequireOutput(LatentParametersName);
        RequireTensor("output", outputName, output, FloatTypes, [4], "float32 or float16 [batch, 8, height/8, width/8] (latent_parameters) or [batch, 4, height/8, width/8] (latent_sample)");
        var channels = FixedDimension(output, 1);
        OutputsDistribution = outputName == LatentParametersName || (outputName != LatentSampleName && channels == 8);
        if (!OutputsDistribution && outputName != LatentSampleName && channels != 4)
        {
            throw new ModelLoadException(ModelPath,
                $"vae_encoder output '{outputName}' is neither 'latent_parameters' (mean ‖ log-variance, 8 channels) nor 'latent_sample' (4 channels), and its channels are not fixed to tell");
        }
        OutputChannels = OutputsDistribution ? 8 : 4;
        _outputNames = [outputName];
        _inputType = sample.ElementDataType;
        _outputType = output.ElementDataType;
    }

    /// <summary>True when the output is the distribution (mean ‖ log-variance) and the pipeline samples from it; false for a latent_sample export.</summary>
    public bool OutputsDistribution { get; }

    /// <summary>8 for <c>latent_parameters</c>, 4 for <c>latent_sample</c>.</summary>
    public int OutputChannels { get; }

    public static VaeEncoderModel Load(OrtSessionFactory sessions, string modelPath, OrtRunTimer timer) =>
        LoadComponent(sessions, modelPath, session => new VaeEncoderModel(session, modelPath, timer));

    /// <summary>
    /// Encodes <paramref name="pixels"/> [batch, 3, H, W] into <paramref name="output"/> [batch, <see cref="OutputChannels"/>,
    /// H/8, W/8]. Both arrays are the caller's and may be longer than the tensors; only their prefixes are used.
    /// </summary>
    public void Encode(RunOptions runOptions, float[] pixels, float[] output, int batch, int height, int width)
    {
        using var input = new FloatTensorBinding(pixels, [batch, 3, height, width], _inputType);
        using var result = new FloatTensorBinding(output, [batch, OutputChannels, height / 8, width / 8], _outputType);
        input.CopyHostToModel();
        Run(runOptions, _inputNames, [input.Value], _outputNames, [result.Value]);
        result.CopyModelToHost();
    }
}
