using System.CommandLine;
using System.Diagnostics;
using DiffusionEngine.TinyModel;

namespace DiffusionCli.Commands;

/// <summary>
/// <c>diffusion create-tiny-model --out DIR [--dtype float32|float16] [--input-ids int32|int64] [--timestep int64|float32]
/// [--external-data] [--preset tiny|sd15]</c>: writes a deterministic model folder in the diffusers ONNX layout.
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
        var preset = new Option<string>("--preset")
        {
            Description = "tiny (toy scale) or sd15 (full SD 1.5 sizes, random weights, ~4 GB, benchmarks only)",
            DefaultValueFactory = _ => "tiny",
        }.AcceptOnlyFromAmong("tiny", "sd15");

        var command = new Command("create-tiny-model", "Write a deterministic Stable Diffusion model folder with random weights (the built-in tiny model)")
        {
            output, dataType, inputIds, timestep, externalData, preset,
        };
        command.SetAction(parseResult =>
        {
            var options = new TinyModelOptions
            {
                DataType = parseResult.GetValue(dataType) == "float16" ? ModelDataType.Float16 : ModelDataType.Float32,
                InputIds = parseResult.GetValue(inputIds) == "int64" ? InputIdsType.Int64 : InputIdsType.Int32,
                Timestep = parseResult.GetValue(timestep) == "float32" ? TimestepInput.Float32Scalar : TimestepInput.Int64Batch,
                ExternalData = parseResult.GetValue(externalData),
                Preset = parseResult.GetValue(preset) == "sd15" ? TinyModelPreset.Sd15 : TinyModelPreset.Tiny,
            };
            var directory = parseResult.GetValue(output)!.FullName;
            var stopwatch = Stopwatch.StartNew();
            TinyModelBuilder.Write(directory, options);
            Console.WriteLine($"Wrote {options.Preset} model ({options.DataType}, input_ids {options.InputIds}, timestep {options.Timestep}" +
                $"{(options.ExternalData || options.Preset == TinyModelPreset.Sd15 ? ", external data" : "")}) to {directory} in {stopwatch.Elapsed.TotalSeconds:F2} s");
            return 0;
        });
        return command;
    }
}
