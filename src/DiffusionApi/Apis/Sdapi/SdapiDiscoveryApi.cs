using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using DiffusionApi.Engine;
using DiffusionApi.Jobs;
using DiffusionApi.Options;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Apis.Sdapi;

public sealed record SdapiSampler(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("aliases")] IReadOnlyList<string> Aliases,
    [property: JsonPropertyName("options")] Dictionary<string, string> Options);

public sealed record SdapiSchedule(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("label")] string Label,
    [property: JsonPropertyName("aliases")] IReadOnlyList<string>? Aliases,
    [property: JsonPropertyName("default_rho")] double DefaultRho,
    [property: JsonPropertyName("need_inner_model")] bool NeedInnerModel);

public sealed record SdapiModel(
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("model_name")] string ModelName,
    [property: JsonPropertyName("hash")] string? Hash,
    [property: JsonPropertyName("sha256")] string? Sha256,
    [property: JsonPropertyName("filename")] string Filename,
    [property: JsonPropertyName("config")] string? Config);

public sealed record SdapiPngInfoRequest([property: JsonPropertyName("image")] string? Image);

public sealed record SdapiPngInfoResponse(
    [property: JsonPropertyName("info")] string Info,
    [property: JsonPropertyName("items")] Dictionary<string, string> Items,
    [property: JsonPropertyName("parameters")] Dictionary<string, string> Parameters);

/// <summary>
/// The read-only A1111 endpoints clients call to fill their menus (samplers, schedulers, models, options, flags,
/// memory, embeddings, LoRAs: empty lists where we have none), POST /options (no-op values; the model switch), and
/// png-info.
/// </summary>
public static class SdapiDiscoveryApi
{
    public static RouteGroupBuilder MapSdapiDiscovery(this RouteGroupBuilder group)
    {
        group.MapGet("/samplers", Samplers).WithName("SdapiSamplers");
        group.MapGet("/schedulers", Schedulers).WithName("SdapiSchedulers");
        group.MapGet("/sd-models", Models).WithName("SdapiModels");
        group.MapGet("/options", GetOptions).WithName("SdapiGetOptions");
        group.MapPost("/options", SetOptions).WithName("SdapiSetOptions").WithMetadata(new SdapiErrors())
            .WithSummary("Accepts settings with the values GET /options shows; sd_model_checkpoint must name a model we serve");
        group.MapGet("/cmd-flags", CommandFlags).WithName("SdapiCmdFlags");
        group.MapGet("/memory", Memory).WithName("SdapiMemory");
        group.MapGet("/embeddings", Embeddings).WithName("SdapiEmbeddings");
        group.MapGet("/loras", Loras).WithName("SdapiLoras");
        group.MapPost("/png-info", ReadPngInfo).WithName("SdapiPngInfo").WithMetadata(new SdapiErrors()).Accepts<SdapiPngInfoRequest>("application/json");
        return group;
    }

    public static SdapiSampler[] Samplers() =>
        SdapiSamplers.All.Select(s => new SdapiSampler(s.Name, s.Aliases, s.KarrasByDefault ? new() { ["scheduler"] = "karras" } : new())).ToArray();

    public static SdapiSchedule[] Schedulers() =>
        SdapiSamplers.Schedules.Select(s => new SdapiSchedule(s.Name, s.Label, null, s.Name == "karras" ? 7.0 : -1, false)).ToArray();

    public static IResult Models(HttpContext context, ModelRegistry models)
    {
        if (!models.IsStarted) return ProblemResults.Unavailable(context, models.Describe());
        return TypedResults.Ok(models.Statuses().Select(s =>
            new SdapiModel(s.Definition.Name, s.Definition.Name, null, null, s.Info?.Directory ?? s.Definition.Path, null)).ToArray());
    }

    public static async Task<IResult> GetOptions(HttpContext context, JobService jobs, SdapiCheckpoint checkpoint)
    {
        var (model, _, unavailable) = await jobs.DescribeModelAsync(checkpoint.Current.Name, SdapiOptions.Checkpoint, context.RequestAborted);
        return model is null ? ProblemResults.Unavailable(context, unavailable!) : TypedResults.Ok(checkpoint.Settings(model));
    }

    /// <summary>
    /// Settings with the values GET /options shows are accepted (no-ops); sd_model_checkpoint switches A1111's checkpoint
    /// for every A1111 client (<see cref="SdapiCheckpoint"/>), loading the model before it answers, as A1111 does.
    /// </summary>
    public static async Task<IResult> SetOptions(HttpContext context, JobService jobs, ModelRegistry models, SdapiCheckpoint checkpoint)
    {
        var errors = new SdapiErrors();
        Dictionary<string, JsonElement>? settings = null;
        try
        {
            settings = await context.Request.ReadFromJsonAsync<Dictionary<string, JsonElement>>(context.RequestAborted);
        }
        catch (JsonException ex)
        {
            errors.Add("body", $"the body must be a JSON object of settings: {ex.Message}");
        }
        var chosen = checkpoint.Current;
        if (settings is not null && settings.TryGetValue(SdapiOptions.Checkpoint, out var title))
        {
            if (title.ValueKind == JsonValueKind.String && checkpoint.Resolve(title.GetString()!) is { } named) chosen = named;
            else errors.Add(SdapiOptions.Checkpoint, models.UnknownModel(SdapiOptions.Checkpoint, title.ValueKind == JsonValueKind.String ? title.GetString()! : title.GetRawText(), "GET /sdapi/v1/sd-models"));
        }
        var (model, _, unavailable) = await jobs.DescribeModelAsync(chosen.Name, SdapiOptions.Checkpoint, context.RequestAborted);
        if (model is null) return ProblemResults.Unavailable(context, unavailable!);
        var current = checkpoint.Settings(model);
        foreach (var (key, value) in settings ?? [])
        {
            if (key != SdapiOptions.Checkpoint) SdapiRequestReader.CheckNoOp(key, key, value, current, errors);
        }
        if (errors.Any) return errors.ToResult();
        checkpoint.Set(chosen);
        return TypedResults.Json<object?>(null);
    }

    public static IResult CommandFlags(HttpContext context, ModelRegistry models, SdapiCheckpoint checkpoint) =>
        FlagsOf(context, models.StatusOf(checkpoint.Current));

    private static IResult FlagsOf(HttpContext context, ModelStatus checkpoint) => TypedResults.Ok(new Dictionary<string, object?>
    {
        ["api"] = true,
        ["nowebui"] = true,
        ["api_auth"] = null,
        ["ckpt"] = checkpoint.Info?.Directory ?? checkpoint.Definition.Path,
        ["ckpt_dir"] = null,
        ["embeddings_dir"] = null,
        ["lora_dir"] = null,
        ["hypernetwork_dir"] = null,
        ["no_half"] = false,
        ["no_half_vae"] = false,
        ["medvram"] = false,
        ["lowvram"] = false,
        ["listen"] = true,
        ["port"] = context.Connection.LocalPort,
        ["use_cpu"] = checkpoint.Info?.ExecutionProvider == "CPU" ? new[] { "all" } : Array.Empty<string>(),
    });

    public static Dictionary<string, object> Memory()
    {
        var gc = GC.GetGCMemoryInfo();
        var total = gc.TotalAvailableMemoryBytes;
        using var process = Process.GetCurrentProcess();
        var used = process.WorkingSet64;
        return new()
        {
            ["ram"] = new Dictionary<string, long> { ["free"] = Math.Max(total - used, 0), ["used"] = used, ["total"] = total },
            // ONNX Runtime does not report device memory; A1111 answers this shape when it has no CUDA statistics.
            ["cuda"] = new Dictionary<string, string> { ["error"] = "device memory statistics are not available from ONNX Runtime" },
        };
    }

    public static Dictionary<string, Dictionary<string, object>> Embeddings() => new() { ["loaded"] = [], ["skipped"] = [] };

    public static object[] Loras() => [];

    public static IResult ReadPngInfo(SdapiPngInfoRequest request)
    {
        var errors = new SdapiErrors();
        var text = request.Image ?? "";
        var comma = text.StartsWith("data:", StringComparison.Ordinal) ? text.IndexOf(',') : -1;
        if (comma >= 0) text = text[(comma + 1)..];
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            errors.Add("image", "image must be a base64 PNG (optionally a data: URL)");
            return errors.ToResult();
        }
        if (bytes.Length == 0)
        {
            errors.Add("image", "image is required");
            return errors.ToResult();
        }
        var chunks = PngInfo.ReadTextChunks(bytes);
        if (chunks is null)
        {
            // A1111 reads parameters from PNG text; JPEG and WebP from us carry none.
            return TypedResults.Ok(new SdapiPngInfoResponse("", [], []));
        }
        var info = chunks.Remove("parameters", out var parameters) ? parameters : "";
        return TypedResults.Ok(new SdapiPngInfoResponse(info, chunks, info.Length > 0 ? PngInfo.Parse(info) : []));
    }
}
