using System.CommandLine;
using System.Text;
using System.Text.Json;
using DiffusionEngine.Models;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;

namespace DiffusionCli.Commands;

/// <summary>
/// <c>inspect --model DIR</c>: what the engine makes of a model folder, as JSON on standard output:
/// <c>{"model", "kind", "capabilities", "defaults": {width, height, steps, guidance, scheduler}, "components":
/// {name: {"inputs": [{name, type, shape}], "outputs": […]}}}</c>, plus <c>"error"</c> (and null kind/defaults) when the
/// folder does not load, exit code 1. Shapes list fixed sizes as numbers and dynamic ones by their symbolic names.
/// The first thing to run on an export that does not load.
/// </summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { HelpName = "DIR", Description = "Model folder (diffusers/Optimum ONNX layout); default: the built-in tiny model" };
        var command = new Command("inspect", "Print a model folder's kind, capabilities, defaults and components' inputs/outputs as JSON") { model };
        command.SetAction(parseResult =>
        {
            var inspection = ModelInspector.Inspect(CliModel.Resolve(parseResult.GetValue(model)));
            parseResult.InvocationConfiguration.Output.WriteLine(ToJson(inspection));
            return inspection.Error is null ? 0 : 1;
        });
        return command;
    }

    /// <summary>The inspection as indented JSON (the format the command prints).</summary>
    public static string ToJson(ModelInspection inspection)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            var model = inspection.Model;
            if (model is null) json.WriteNull("model"); else json.WriteString("model", model.Name);
            if (model is null) json.WriteNull("kind"); else json.WriteString("kind", model.Kind.Id());
            json.WriteStartArray("capabilities");
            foreach (var capability in model?.Capabilities ?? []) json.WriteStringValue(capability.Id());
            json.WriteEndArray();
            if (model is null) json.WriteNull("defaults");
            else
            {
                json.WriteStartObject("defaults");
                json.WriteNumber("width", model.Defaults.Width);
                json.WriteNumber("height", model.Defaults.Height);
                json.WriteNumber("steps", model.Defaults.Steps);
                json.WriteNumber("guidance", model.Defaults.GuidanceScale);
                json.WriteString("scheduler", model.Defaults.Scheduler);
                json.WriteEndObject();
            }
            json.WriteStartObject("components");
            foreach (var component in inspection.Components)
            {
                json.WriteStartObject(component.Name);
                WriteTensors(json, "inputs", component.Inputs);
                WriteTensors(json, "outputs", component.Outputs);
                if (component.Error is not null) json.WriteString("error", component.Error);
                json.WriteEndObject();
            }
            json.WriteEndObject();
            if (inspection.Error is not null) json.WriteString("error", inspection.Error);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteTensors(Utf8JsonWriter json, string name, IReadOnlyList<TensorSignature> tensors)
    {
        json.WriteStartArray(name);
        foreach (var tensor in tensors)
        {
            json.WriteStartObject();
            json.WriteString("name", tensor.Name);
            json.WriteString("type", tensor.Type);
            json.WriteStartArray("shape");
            foreach (var dimension in tensor.Shape)
            {
                if (dimension is long size) json.WriteNumberValue(size);
                else json.WriteStringValue(dimension.ToString());
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }
}
