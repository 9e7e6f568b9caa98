using System.CommandLine;
using System.Diagnostics;
using DiffusionEngine.TinyModel;

namespace DiffusionCli.Commands;

/// <summary>
/// <c>diffusion create-tiny-model --out DIR [--dtype float32|float16] [--input-ids int32|int64] [--timestep int64|float32]
/// [--external-data] [--hidden-states] [--vae-encoder latent_sample|latent_parameters]
/// [--preset tiny|sd15|tiny-sdxl|tiny-inpaint|tiny-lcm|sdxl]</c>: writes a deterministic model folder in the diffusers ONNX layout.
/// </summary>
public static class CreateTinyModelCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out")
        {
            Description = "Folder to write the model into (created if missing)",
            Required = true,
        };
        var dataType = new Option<string>("--dtype")
        {
            Description = "Weight and float tensor type",
            DefaultValueFactory = _ => "float32",
        }.AcceptOnlyFromAmong("float32", "float16");
        var inputIds = new Option<string>("--input-ids")
        {
            Description = "Text encoder input_ids type (int32: diffusers script / Optimum < 1.24; int64: Optimum >= 1.24)",
            DefaultValueFactory = _ => "int32",
        }.AcceptOnlyFromAmong("int32", "int64");
        var timestep = new Option<string>("--timestep")
        {
            Description = "UNet timestep input: int64 = int64 [batch]; float32 = rank-0 float scalar (float16 in a float16 model)",
            DefaultValueFactory = _ => "int64",
        }.AcceptOnlyFromAmong("int64", "float32");
        var externalData = new Option<bool>("--external-data")
        {
            Description = "Store weights in model.onnx_data beside each model.onnx",
        };
        var hiddenStates = new Option<bool>("--hidden-states")
        {
            Description = "Also export the text encoders' hidden_states.0..N outputs (always on for the SDXL presets)",
        };
        var vaeEncoder = new Option<string>("--vae-encoder")
        {
            Description = "vae_encoder output: latent_sample (the mean, diffusers' script) or latent_parameters (mean ‖ log-variance, Optimum)",
            DefaultValueFactory = _ => "latent_sample",
        }.AcceptOnlyFromAmong("latent_sample", "latent_parameters");
        var preset = new Option<string>("--preset")
        {
            Description = "tiny (toy SD, the built-in model), tiny-sdxl, tiny-inpaint, tiny-lcm (toy scale of each kind), " +
                "sd15 (full SD 1.5 sizes, random weights, ~4 GB) or sdxl (full SDXL sizes, random weights, ~14 GB); the full sizes are for benchmarks only",
            DefaultValueFactory = _ => "tiny",
        }.AcceptOnlyFromAmong([.. TinyModelPresets.All.Select(p => p.Id())]);

        var command = new Command("create-tiny-model", "Write a deterministic Stable Diffusion model folder with random weights (the built-in tiny model)")
        {
            output, dataType, inputIds, timestep, externalData, hiddenStates, vaeEncoder, preset,
        };
        command.SetAction(parseResult =>
        {
            var options = new TinyModelOptions
            {
                DataType = parseResult.GetValue(dataType) == "float16" ? ModelDataType.Float16 : ModelDataType.Float32,
                InputIds = parseResult.GetValue(inputIds) == "int64" ? InputIdsType.Int64 : InputIdsType.Int32,
                Timestep = parseResult.GetValue(timestep) == "float32" ? TimestepInput.Float32Scalar : TimestepInput.Int64Batch,
                ExternalData = parseResult.GetValue(externalData),
                TextEncoderHiddenStates = parseResult.GetValue(hiddenStates),
                VaeEncoderOutput = parseResult.GetValue(vaeEncoder) == "latent_parameters" ? VaeEncoderOutput.LatentParameters : VaeEncoderOutput.LatentSample,
                Preset = TinyModelPresets.TryParse(parseResult.GetValue(preset), out var chosen) ? chosen : TinyModelPreset.Tiny,
            };
            var directory = parseResult.GetValue(output)!.FullName;
            var stopwatch = Stopwatch.StartNew();
            TinyModelBuilder.Write(directory, options);
            Console.WriteLine($"Wrote {options.Preset.Id()} model ({options.DataType}, input_ids {options.InputIds}, timestep {options.Timestep}" +
                $"{(options.ExternalData || options.Preset.IsFullSize() ? ", external data" : "")}) to {directory} in {stopwatch.Elapsed.TotalSeconds:F2} s");
            return 0;
        });
        return command;
    }
}
