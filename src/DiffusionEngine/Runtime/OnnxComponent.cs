using System.Diagnostics;
using DiffusionEngine.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionEngine.Runtime;

/// <summary>
/// One ONNX model of a pipeline (text encoders, UNet, VAE decoder and encoder): owns its <see cref="InferenceSession"/>, checks
/// its input/output metadata at load time and times every <c>Run</c> into the pipeline's <see cref="OrtRunTimer"/>.
/// Sessions are created once and reused; ORT allows concurrent Run calls on one session.
/// </summary>
internal abstract class OnnxComponent : IDisposable
{
    private readonly OrtRunTimer _timer;

    protected OnnxComponent(InferenceSession session, string modelPath, string componentName, OrtRunTimer timer)
    {
        Session = session;
        ModelPath = modelPath;
        ComponentName = componentName;
        _timer = timer;
    }

    /// <summary>Path of the .onnx file: every load error names it.</summary>
    public string ModelPath { get; }

    /// <summary>"text_encoder", "text_encoder_2", "unet", "vae_decoder", "vae_encoder".</summary>
    public string ComponentName { get; }

    protected InferenceSession Session { get; }

    /// <summary>Runs the model into preallocated outputs (the hot path: no output allocation by ORT).</summary>
    public void Run(RunOptions runOptions, string[] inputNames, OrtValue[] inputs, string[] outputNames, OrtValue[] outputs)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            Session.Run(runOptions, inputNames, inputs, outputNames, outputs);
        }
        finally
        {
            _timer.Add(start, Stopwatch.GetTimestamp());
        }
    }

    /// <summary>Creates an I/O binding on this model's session; the caller disposes it.</summary>
    public OrtIoBinding CreateIoBinding() => Session.CreateIoBinding();

    /// <summary>Runs the model on the values bound in <paramref name="binding"/> (inputs and preallocated outputs).</summary>
    public void RunWithBinding(RunOptions runOptions, OrtIoBinding binding)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            Session.RunWithBinding(runOptions, binding);
        }
        finally
        {
            _timer.Add(start, Stopwatch.GetTimestamp());
        }
    }

    /// <summary>Runs the model and lets ORT allocate the outputs (for outputs whose shape is only known after the run). The caller disposes the result.</summary>
    public IDisposableReadOnlyCollection<OrtValue> Run(RunOptions runOptions, string[] inputNames, OrtValue[] inputs, string[] outputNames)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return Session.Run(runOptions, inputNames, inputs, outputNames);
        }
        finally
        {
            _timer.Add(start, Stopwatch.GetTimestamp());
        }
    }

    /// <summary>
    /// Ends ONNX Runtime profiling of this session (<see cref="SessionTuning.ProfilePrefix"/>) and returns the path of the
    /// JSON profile written.
    /// </summary>
    public string EndProfiling() => Session.EndProfiling();

    public virtual void Dispose() => Session.Dispose();

    /// <summary>The session's inputs and outputs as <c>inspect</c> shows them.</summary>
    public ComponentSignature Signature() => ComponentSignature.Of(ComponentName, Session);

    /// <summary>
    /// Creates the session for <paramref name="modelPath"/> and hands it to <paramref name="create"/> (a component's
    /// constructor, which checks the metadata); the session is disposed when that check throws.
    /// </summary>
    protected static T LoadComponent<T>(OrtSessionFactory sessions, string modelPath, Func<InferenceSession, T> create, bool cudaGraph = false) where T : OnnxComponent
    {
        var session = sessions.CreateSession(modelPath, cudaGraph);
        try
        {
            return create(session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The input named <paramref name="name"/>, or a load error listing the inputs the model has.</summary>
    protected NodeMetadata RequireInput(string name)
    {
        if (Session.InputMetadata.TryGetValue(name, out var metadata)) return metadata;
        throw new ModelLoadException(ModelPath,
            $"the {ComponentName} model has no input '{name}' (its inputs are: {string.Join(", ", Session.InputMetadata.Keys)})");
    }

    /// <summary>Fails when the model wants an input no pipeline of the engine feeds (e.g. a ControlNet residual).</summary>
    protected void RejectUnknownInputs(params string[] known)
    {
        foreach (var name in Session.InputMetadata.Keys)
        {
            if (Array.IndexOf(known, name) < 0)
            {
                throw new ModelLoadException(ModelPath,
                    $"the {ComponentName} model has an input '{name}' that no pipeline of this engine provides (supported inputs: {string.Join(", ", known)})");
            }
        }
    }

    /// <summary>The output named <paramref name="preferredName"/>, else the model's first output (exporters differ in output names).</summary>
    protected (string Name, NodeMetadata Metadata) RequireOutput(string preferredName)
    {
        if (Session.OutputMetadata.TryGetValue(preferredName, out var metadata)) return (preferredName, metadata);
        foreach (var (name, first) in Session.OutputMetadata) return (name, first);
        throw new ModelLoadException(ModelPath, $"the {ComponentName} model has no outputs");
    }

    /// <summary>
    /// Checks a tensor's element type and rank against what the pipeline can adapt, or fails naming the tensor,
    /// what was found and what is supported.
    /// </summary>
    protected void RequireTensor(string direction, string name, NodeMetadata metadata, TensorElementType[] types, int[] ranks, string supported)
    {
        if (metadata.IsTensor && Array.IndexOf(types, metadata.ElementDataType) >= 0 && Array.IndexOf(ranks, metadata.Dimensions.Length) >= 0) return;
        throw new ModelLoadException(ModelPath,
            $"{ComponentName} {direction} '{name}' is {TensorDescriptions.Describe(metadata)}, which is not supported; supported: {supported}");
    }

    /// <summary>A fixed (exported as a number) dimension, or null when it is dynamic.</summary>
    protected static int? FixedDimension(NodeMetadata metadata, int index) =>
        index < metadata.Dimensions.Length && metadata.Dimensions[index] > 0 ? metadata.Dimensions[index] : null;

    protected static readonly TensorElementType[] FloatTypes = [TensorElementType.Float, TensorElementType.Float16];
}
