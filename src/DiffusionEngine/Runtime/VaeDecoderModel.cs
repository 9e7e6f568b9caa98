using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Runtime;

/// <summary>
/// The VAE decoder: <c>latent_sample</c> float32/float16 [batch, 4, h, w] → <c>sample</c> float32/float16
/// [batch, 3, 8h, 8w] with values in about [-1, 1].
/// </summary>
internal sealed class VaeDecoderModel : OnnxComponent
{
    public const string LatentName = "latent_sample";
    public const string SampleName = "sample";

    private readonly string[] _inputNames = [LatentName];
    private readonly string[] _outputNames;
    private readonly Microsoft.ML.OnnxRuntime.Tensors.TensorElementType _inputType;
    private readonly Microsoft.ML.OnnxRuntime.Tensors.TensorElementType _outputType;

    private VaeDecoderModel(InferenceSession session, string modelPath, OrtRunTimer timer)
        : base(session, modelPath, "vae_decoder", timer)
    {
        var latent = RequireInput(LatentName);
        RequireTensor("input", LatentName, latent, FloatTypes, [4], "float32 or float16 [batch, 4, height/8, width/8]");
        RejectUnknownInputs(LatentName);
        var (outputName, output) = RequireOutput(SampleName);
        RequireTensor("output", outputName, output, FloatTypes, [4], "float32 or float16 [batch, 3, height, width]");
        _outputNames = [outputName];
        _inputType = latent.ElementDataType;
        _outputType = output.ElementDataType;
        LatentChannels = FixedDimension(latent, 1) ?? 4;
    }

    public int LatentChannels { get; }

    public static VaeDecoderModel Load(OrtSessionFactory sessions, string modelPath, OrtRunTimer timer) =>
        LoadComponent(sessions, modelPath, session => new VaeDecoderModel(session, modelPath, timer));

    /// <summary>
    /// Decodes <paramref name="latents"/> [batch, 4, h, w] (already divided by the scaling factor) into
    /// <paramref name="pixels"/> [batch, 3, 8h, 8w]. Both arrays are the caller's and may be longer than the tensors
    /// (rented arrays); only their prefixes are read and written.
    /// </summary>
    public void Decode(RunOptions runOptions, float[] latents, float[] pixels, int batch, int latentHeight, int latentWidth)
    {
        using var input = new FloatTensorBinding(latents, [batch, LatentChannels, latentHeight, latentWidth], _inputType);
        using var output = new FloatTensorBinding(pixels, [batch, 3, latentHeight * 8, latentWidth * 8], _outputType);
        input.CopyHostToModel();
        Run(runOptions, _inputNames, [input.Value], _outputNames, [output.Value]);
        output.CopyModelToHost();
    }
}
