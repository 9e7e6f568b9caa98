using DiffusionApi.Engine;
using DiffusionApi.Extensions;
using DiffusionApi.Jobs;
using DiffusionApi.Model;
using DiffusionApi.Options;
using DiffusionEngine.Pipelines;
using ModelDefaults = DiffusionApi.Model.ModelDefaults;
using DiffusionEngine.Schedulers;
using DiffusionEngine.Text.Prompts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Apis;

/// <summary>
/// What the service offers: its models (with their state), the schedulers, and the prompt's tokens against a model's
/// window. <c>model</c> (query on GETs, body field on POSTs) selects the model; the default when it is missing.
/// </summary>
public static class DiscoveryApi
{
    public static IEndpointRouteBuilder MapDiscoveryApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("Discovery");
        group.MapGet("/models", GetModels).WithName("ListModels").WithSummary("Every model the service serves, with its state (loaded, loading, unloaded, failed), kind and capabilities (OpenAI list shape)")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/schedulers", GetSchedulers).WithName("ListSchedulers").WithSummary("Schedulers a request may name, and the default of the model named by ?model= (the default model's without it)")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/tokenize", Tokenize).WithName("Tokenize").WithJsonBody(V1FieldAdvice.Table)
            .WithSummary("What the text encoder receives for a prompt: its 77-token chunks, each with ids and per-token weights")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    public static Results<Ok<ModelList>, ProblemHttpResult> GetModels(HttpContext context, ModelRegistry models, IOptions<LimitsOptions> limits)
    {
        if (!models.IsStarted) return ProblemResults.Unavailable(context, models.Describe());
        var statuses = models.Statuses();
        var entries = new ModelEntry[statuses.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var (definition, state, model, error) = statuses[i];
            var directory = model?.Directory ?? definition.Path;
            var created = directory.Length > 0 && Directory.Exists(directory) ? new DateTimeOffset(Directory.GetCreationTimeUtc(directory)).ToUnixTimeSeconds() : 0;
            entries[i] = new ModelEntry(definition.Name, "model", created, "local", state.ToString().ToLowerInvariant(), definition.IsDefault,
                model?.Kind.Id(), model?.Capabilities.Select(c => c.Id()).ToArray(), model?.DefaultScheduler, model?.ExecutionProvider, model?.TokenizerMaxLength,
                model is null ? null : ModelDefaults.From(GenerationDefaults.For(model)), model is null ? null : MaxChunks(model, limits.Value),
                model is null ? null : model.Prompts?.MaxClipSkip ?? 1, error);
        }
        return TypedResults.Ok(new ModelList("list", entries));
    }

    public static async Task<Results<Ok<SchedulerList>, ValidationProblem, ProblemHttpResult>> GetSchedulers(HttpContext context, JobService jobs, string? model = null)
    {
        var (info, errors, unavailable) = await jobs.DescribeModelAsync(model, "model", context.RequestAborted);
        if (errors is not null) return ProblemResults.Invalid(errors);
        if (info is null) return ProblemResults.Unavailable(context, unavailable!);
        var all = SchedulerFactory.All;
        var entries = new SchedulerEntry[all.Count];
        for (var i = 0; i < all.Count; i++) entries[i] = new SchedulerEntry(all[i].Id, all[i].DisplayName, all[i].ClassName, all[i].Karras);
        return TypedResults.Ok(new SchedulerList(info.DefaultScheduler, entries));
    }

    public static async Task<Results<Ok<TokenizeResponse>, ValidationProblem, ProblemHttpResult>> Tokenize(
        TokenizeRequest request, HttpContext context, JobService jobs, IOptions<LimitsOptions> limits, IOptions<PromptsOptions> prompts)
    {
        if (string.IsNullOrEmpty(request.Prompt)) return ProblemResults.Invalid(new() { ["prompt"] = ["prompt is required"] });
        if (request.Prompt.Length > limits.Value.MaxPromptLength)
            return ProblemResults.Invalid(new() { ["prompt"] = [$"prompt must be at most {limits.Value.MaxPromptLength} characters but was {request.Prompt.Length}"] });
        var syntax = prompts.Value.DefaultSyntax;
        if (request.PromptSyntax is not null && !PromptSyntaxNames.TryParse(request.PromptSyntax, out syntax))
        {
            return ProblemResults.Invalid(new()
            {
                ["prompt_syntax"] = [$"prompt_syntax must be {string.Join(" or ", PromptSyntaxNames.All)} but was '{ControlCharacters.Escape(request.PromptSyntax)}'"],
            });
        }
        var (model, errors, unavailable) = await jobs.DescribeModelAsync(request.Model, "model", context.RequestAborted);
        if (errors is not null) return ProblemResults.Invalid(errors);
        if (model is null) return ProblemResults.Unavailable(context, unavailable!);

        ChunkedPrompt prompt;
        try
        {
            prompt = model.Prompts!.Read(request.Prompt, syntax, limits.Value.MaxPromptChunks, "prompt");
        }
        catch (ArgumentException ex)
        {
            return ProblemResults.Invalid(new() { ["prompt"] = [ex.Message] });
        }
        var chunks = new TokenizeChunk[prompt.ChunkCount];
        for (var i = 0; i < chunks.Length; i++)
        {
            var chunk = prompt.Chunks[i];
            chunks[i] = new TokenizeChunk(chunk.TokenCount, chunk.Ids.ToArray(), chunk.Weights.ToArray());
        }
        return TypedResults.Ok(new TokenizeResponse(PromptSyntaxNames.NameOf(prompt.Syntax), prompt.TokenCount, prompt.ChunkCount,
            MaxChunks(model, limits.Value), model.TokenizerMaxLength, prompt.Truncated, chunks));
    }

    /// <summary>The most chunks a prompt may take: Limits:MaxPromptChunks, or fewer when the UNet's text sequence is fixed.</summary>
    private static int MaxChunks(ModelInfo model, LimitsOptions limits) =>
        Math.Min(limits.MaxPromptChunks, model.Prompts?.FixedChunks ?? int.MaxValue);
}
