using System.Text.Json.Nodes;
using DiffusionEngine.Models;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;
using DiffusionEngine.Schedulers;
using DiffusionEngine.Tests.Pipelines;
using DiffusionEngine.TinyModel;
using static DiffusionEngine.Tests.TestSupport.OnnxTestModel;

namespace DiffusionEngine.Tests.Models;

/// <summary>
/// The loader picks the model kind from model_index.json's _class_name and the UNet's inputs, reports kind, capabilities
/// and defaults, and rejects a folder it cannot serve naming the class or input and what is supported.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class ModelKindTests(TinyModelFixture models)
{
    private static readonly PipelineOptions Cpu = new() { ExecutionProvider = ExecutionProviderKind.Cpu };

    public static TheoryData<TinyModelPreset, ModelKind, string[], int, float, string> Presets => new()
    {
        { TinyModelPreset.Tiny, ModelKind.StableDiffusion, ["txt2img", "img2img", "inpaint"], 20, 7.5f, "pndm" },
        { TinyModelPreset.TinySdxl, ModelKind.StableDiffusionXL, ["txt2img", "img2img", "inpaint"], 20, 5f, "euler" },
        { TinyModelPreset.TinyInpaint, ModelKind.StableDiffusionInpaint, ["inpaint"], 20, 7.5f, "pndm" },
        { TinyModelPreset.TinyLcm, ModelKind.LatentConsistency, ["txt2img"], 4, 8.5f, "lcm" },
    };

    [Theory]
    [MemberData(nameof(Presets))]
    public void Load_ReportsKindCapabilitiesAndDefaultsOfEachTinyPreset(TinyModelPreset preset, ModelKind kind, string[] capabilities, int steps, float guidance, string scheduler)
    {
        var model = models.PipelineFor(preset).Model;

        Assert.Equal(kind, model.Kind);
        Assert.Equal(capabilities, model.Capabilities.Select(c => c.Id()));
        // The tiny UNets' config says sample_size 32: a native size of 256².
        Assert.Equal(new ModelDefaults(256, 256, steps, guidance, scheduler), model.Defaults);
        Assert.Equal(scheduler, model.DefaultScheduler);
    }

    [Theory]
    [InlineData(TinyModelPreset.TinySdxl)]
    [InlineData(TinyModelPreset.TinyInpaint)]
    [InlineData(TinyModelPreset.TinyLcm)]
    public void EachKind_InFloat16WithAScalarTimestepAndExternalData_GeneratesADeterministicImage(TinyModelPreset preset)
    {
        // text_embeds, time_ids and timestep_cond are float16 in an fp16 export, like sample and the hidden states.
        var pipeline = models.PipelineFor(new TinyModelOptions
        {
            Preset = preset, DataType = ModelDataType.Float16, Timestep = TimestepInput.Float32Scalar, InputIds = InputIdsType.Int64,
            ExternalData = true, VaeEncoderOutput = VaeEncoderOutput.LatentParameters,
        });
        var request = new GenerationRequest { Prompt = "a red fox", Seed = 3, Width = 64, Height = 64, Steps = 2, GuidanceScale = pipeline.Model.Defaults.GuidanceScale };
        if (pipeline.Model.Kind.IsInpaintingUNet()) request = request with { InitImage = TestImages.Gradient(64, 64), Mask = TestImages.RectangleMask(64, 64, 8, 8, 40, 40) };

        var first = pipeline.Generate([request])[0];

        ImageAssert.NotFlat(first);
        Assert.Equal(first.Rgb, pipeline.Generate([request])[0].Rgb);
    }

    [Fact]
    public void Load_WithoutAVaeEncoder_OffersTextToImageOnly()
    {
        var model = models.CopyOfDefaultModel();
        Directory.Delete(Path.Combine(model, "vae_encoder"), recursive: true);

        using var pipeline = DiffusionPipeline.Load(model, Cpu);

        Assert.Equal([GenerationMode.TextToImage], pipeline.Model.Capabilities);
        var error = Assert.Throws<ArgumentException>(() => pipeline.Generate([StableDiffusionPipelineTests.Request() with { InitImage = TestImages.Gradient(64, 64) }]));
        Assert.Contains("cannot run img2img", error.Message);
        Assert.Contains("no vae_encoder/model.onnx", error.Message);
    }

    [Theory]
    [InlineData("EulerAncestralDiscreteScheduler", "euler_a")]
    [InlineData("EulerDiscreteScheduler", "euler")]
    public void Load_WithAnEulerSchedulerOfTrailingSpacing_IsTurboWithOneStepAndNoGuidance(string schedulerClass, string schedulerId)
    {
        // sd-turbo's and sdxl-turbo's scheduler_config.json: an Euler scheduler with timestep_spacing "trailing".
        var model = models.CopyOfDefaultModel();
        EditJson(Path.Combine(model, "scheduler", "scheduler_config.json"), json =>
        {
            json["_class_name"] = schedulerClass;
            json["timestep_spacing"] = "trailing";
        });
        using var pipeline = DiffusionPipeline.Load(model, Cpu);

        Assert.Equal(ModelKind.SdTurbo, pipeline.Model.Kind);
        Assert.Equal(new ModelDefaults(256, 256, 1, 0f, schedulerId), pipeline.Model.Defaults);
        var request = new GenerationRequest { Prompt = "a red fox", Width = 64, Height = 64, Steps = 1, GuidanceScale = 0f, Seed = 1 };
        var unetBatchSizes = PipelineProbes.CaptureUNetBatchSizes(() => ImageAssert.NotFlat(pipeline.Generate([request])[0]));
        Assert.Equal([1], unetBatchSizes);
    }

    [Theory]
    [InlineData("OnnxStableDiffusionPipeline", ModelKind.StableDiffusion)]
    [InlineData("ORTStableDiffusionPipeline", ModelKind.StableDiffusion)]
    [InlineData("StableDiffusionImg2ImgPipeline", ModelKind.StableDiffusion)]
    [InlineData("OnnxStableDiffusionInpaintPipelineLegacy", ModelKind.StableDiffusion)]
    [InlineData("FlaxStableDiffusionPipeline", ModelKind.StableDiffusion)]
    [InlineData(null, ModelKind.StableDiffusion)]
    public void Detect_AcceptsDiffusersOnnxAndOrtClassNames(string? className, ModelKind kind)
    {
        Assert.Equal(kind, Detect(className, new UNetSignature(4, false, false, false)));
    }

    [Theory]
    [InlineData(4, false, false, ModelKind.StableDiffusion)]
    [InlineData(9, false, false, ModelKind.StableDiffusionInpaint)]
    [InlineData(4, true, false, ModelKind.StableDiffusionXL)]
    [InlineData(9, true, false, ModelKind.StableDiffusionXLInpaint)]
    [InlineData(4, false, true, ModelKind.LatentConsistency)]
    [InlineData(4, true, true, ModelKind.LatentConsistencyXL)]
    [InlineData(null, false, false, ModelKind.StableDiffusion)]
    public void Detect_LetsTheUNetsInputsDecide(int? channels, bool xl, bool timestepCond, ModelKind kind)
    {
        // With no class name the UNet alone decides; with the matching class the same.
        var unet = new UNetSignature(channels, xl, xl, timestepCond);
        Assert.Equal(kind, Detect(null, unet));
        Assert.Equal(kind, Detect(timestepCond ? "LatentConsistencyModelPipeline" : xl ? "ORTStableDiffusionXLPipeline" : "StableDiffusionInpaintPipeline", unet));
    }

    [Theory]
    [InlineData("StableDiffusionUpscalePipeline")]
    [InlineData("OnnxStableDiffusionUpscalePipeline")]
    [InlineData("StableDiffusion3Pipeline")]
    [InlineData("FluxPipeline")]
    public void Detect_AnUnsupportedClass_NamesItAndTheSupportedOnes(string className)
    {
        var error = Assert.Throws<ModelLoadException>(() => Detect(className, new UNetSignature(4, false, false, false)));

        Assert.Equal("model_index.json", Path.GetFileName(error.FilePath));
        Assert.Contains($"_class_name '{className}' is not a pipeline this engine serves", error.Message);
        Assert.Contains("supported: StableDiffusionPipeline", error.Message);
        Assert.Contains("StableDiffusionXLPipeline", error.Message);
        Assert.Contains("LatentConsistencyModelPipeline", error.Message);
    }

    [Fact]
    public void Detect_AUNetWithEightChannels_NamesTheInputAndTheSupportedCounts()
    {
        // instruct-pix2pix's UNet takes latents ‖ image latents: 8 channels.
        var error = Assert.Throws<ModelLoadException>(() => Detect("StableDiffusionInstructPix2PixPipeline", new UNetSignature(8, false, false, false)));
        Assert.Contains("not a pipeline this engine serves", error.Message);

        error = Assert.Throws<ModelLoadException>(() => Detect(null, new UNetSignature(8, false, false, false)));
        Assert.Contains("unet input 'sample' has 8 channels", error.Message);
        Assert.Contains("supported: 4 (text-to-image UNet) or 9 (inpainting UNet", error.Message);
    }

    [Fact]
    public void Detect_AnSdxlClassWithAnSdUNet_SaysWhichInputsAreMissing()
    {
        var error = Assert.Throws<ModelLoadException>(() => Detect("StableDiffusionXLPipeline", new UNetSignature(4, false, false, false)));

        Assert.Equal("model.onnx", Path.GetFileName(error.FilePath));
        Assert.Contains("names StableDiffusionXLPipeline, an SDXL pipeline, but the unet has no 'text_embeds' and 'time_ids' inputs", error.Message);
    }

    [Fact]
    public void Detect_AnSdClassWithAnSdxlUNet_IsRejected()
    {
        var error = Assert.Throws<ModelLoadException>(() => Detect("OnnxStableDiffusionPipeline", new UNetSignature(4, true, true, false)));

        Assert.Contains("the unet takes 'text_embeds' and 'time_ids' (an SDXL UNet) but model_index.json names OnnxStableDiffusionPipeline", error.Message);
    }

    [Fact]
    public void Load_AModelIndexNamingAnUnsupportedPipeline_FailsBeforeGenerating()
    {
        var model = models.CopyOfDefaultModel();
        EditJson(Path.Combine(model, "model_index.json"), json => json["_class_name"] = "StableDiffusionUpscalePipeline");

        var error = Assert.Throws<ModelLoadException>(() => DiffusionPipeline.Load(model, Cpu));

        Assert.Equal(Path.Combine(model, "model_index.json"), error.FilePath);
        Assert.Contains("'StableDiffusionUpscalePipeline' is not a pipeline this engine serves", error.Message);
    }

    [Fact]
    public void Load_AUNetWithTimeIdsButNoTextEmbeds_NamesBoth()
    {
        var model = models.CopyOfDefaultModel();
        WriteIdentity(Path.Combine(model, "unet", "model.onnx"), "out_sample",
            new Tensor("sample", OnnxFloat, "batch", 4, "height", "width"), new Tensor("timestep", OnnxInt64, "batch"),
            new Tensor("encoder_hidden_states", OnnxFloat, "batch", 77, 32), new Tensor("time_ids", OnnxFloat, "batch", 6));

        var error = Assert.Throws<ModelLoadException>(() => DiffusionPipeline.Load(model, Cpu));

        Assert.Contains("has an input 'time_ids' but no 'text_embeds'", error.Message);
    }

    [Fact]
    public void Load_AnSdxlFolderWithoutTextEncoder2_NamesTheMissingComponent()
    {
        var model = models.CopyOf(new TinyModelOptions { Preset = TinyModelPreset.TinySdxl });
        Directory.Delete(Path.Combine(model, "text_encoder_2"), recursive: true);

        var error = Assert.Throws<ModelLoadException>(() => DiffusionPipeline.Load(model, Cpu));

        Assert.Contains("tokenizer_2/text_encoder_2 component is missing", error.Message);
    }

    [Fact]
    public void Load_AnSdxlTextEncoderWithoutHiddenStates_SaysHowToExportIt()
    {
        var model = models.CopyOf(new TinyModelOptions { Preset = TinyModelPreset.TinySdxl });
        // The SD preset's text encoder has the same input and width but no hidden_states outputs.
        File.Copy(Path.Combine(models.DefaultModel, "text_encoder", "model.onnx"), Path.Combine(model, "text_encoder", "model.onnx"), overwrite: true);

        var error = Assert.Throws<ModelLoadException>(() => DiffusionPipeline.Load(model, Cpu));

        Assert.Equal(Path.Combine(model, "text_encoder", "model.onnx"), error.FilePath);
        Assert.Contains("has no 'hidden_states.N' outputs", error.Message);
    }

    [Fact]
    public void Load_AnSdxlRefiner_IsRejectedAsSuch()
    {
        var model = models.CopyOf(new TinyModelOptions { Preset = TinyModelPreset.TinySdxl });
        EditJson(Path.Combine(model, "model_index.json"), json => json["requires_aesthetics_score"] = true);

        var error = Assert.Throws<ModelLoadException>(() => DiffusionPipeline.Load(model, Cpu));

        Assert.Contains("SDXL refiner, which is not supported", error.Message);
    }

    [Fact]
    public void Load_AnInpaintingUNetWithoutAVaeEncoder_NamesTheMissingComponent()
    {
        var model = models.CopyOf(new TinyModelOptions { Preset = TinyModelPreset.TinyInpaint });
        Directory.Delete(Path.Combine(model, "vae_encoder"), recursive: true);

        var error = Assert.Throws<ModelLoadException>(() => DiffusionPipeline.Load(model, Cpu));

        Assert.Contains("vae_encoder component is missing; an inpainting UNet needs it", error.Message);
    }

    private static ModelKind Detect(string? className, UNetSignature unet) =>
        ModelKindDetector.Detect(className, unet, SchedulerConfig.FromJson(ModelConfigFilesForTests.Sd15Scheduler), "/m/model_index.json", "/m/unet/model.onnx");

    private static void EditJson(string path, Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }
}

/// <summary>The SD 1.5 scheduler config the tiny model ships, for tests that need a config without a folder.</summary>
internal static class ModelConfigFilesForTests
{
    public const string Sd15Scheduler = """{ "_class_name": "PNDMScheduler", "beta_schedule": "scaled_linear", "skip_prk_steps": true, "steps_offset": 1 }""";
}
