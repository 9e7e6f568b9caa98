using DiffusionApi.Engine;
using DiffusionApi.Extensions;
using DiffusionApi.Model;
using DiffusionApi.Options;
using DiffusionEngine.Schedulers;
using DiffusionEngine.Text.Prompts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Apis;

/// <summary>What the service offers: the loaded model, the schedulers, and the prompt's tokens against the model's window.</summary>
public static class DiscoveryApi
{
    public static IEndpointRouteBuilder MapDiscoveryApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("Discovery");
        group.MapGet("/models", GetModels).WithName("ListModels").WithSummary("The loaded model (OpenAI list shape)")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/schedulers", GetSchedulers).WithName("ListSchedulers").WithSummary("Schedulers a request may name")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/tokenize", Tokenize).WithName("Tokenize").WithJsonBody(V1FieldAdvice.Table)
            .WithSummary("What the text encoder receives for a prompt: its 77-token chunks, each with ids and per-token weights")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    public static Results<Ok<ModelList>, ProblemHttpResult> GetModels(HttpContext context, ModelHost host, IOptions<LimitsOptions> limits)
    {
        if (host.Engine is not { } engine) return ProblemResults.Unavailable(context, host.Describe());
        var model = engine.Model;
        var created = Directory.Exists(model.Directory) ? new DateTimeOffset(Directory.GetCreationTimeUtc(model.Directory)).ToUnixTimeSeconds() : 0;
        return TypedResults.Ok(new ModelList("list",
            [new ModelEntry(model.Name, "model", created, "local", model.DefaultScheduler, model.ExecutionProvider, model.TokenizerMaxLength,
                ModelDefaults.From(GenerationDefaults.For(model)), MaxChunks(model, limits.Value), model.Prompts?.MaxClipSkip ?? 1,
                DiffusionEngine.Pipelines.ModelKinds.Id(model.Kind), [.. model.Capabilities.Select(DiffusionEngine.Pipelines.GenerationModes.Id)])]));
    }

    public static Results<Ok<SchedulerList>, ProblemHttpResult> GetSchedulers(HttpContext context, ModelHost host)
    {
        if (host.Engine is not { } engine) return ProblemResults.Unavailable(context, host.Describe());
        var all = SchedulerFactory.All;
        var entries = new SchedulerEntry[all.Count];
        for (var i = 0; i < all.Count; i++) entries[i] = new SchedulerEntry(all[i].Id, all[i].DisplayName, all[i].ClassName, all[i].Karras);
        return TypedResults.Ok(new SchedulerList(engine.Model.DefaultScheduler, entries));
    }

    public static Results<Ok<TokenizeResponse>, ValidationProblem, ProblemHttpResult> Tokenize(
        TokenizeRequest request, HttpContext context, ModelHost host, IOptions<LimitsOptions> limits, IOptions<PromptsOptions> prompts)
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
        if (host.Engine is not { } engine) return ProblemResults.Unavailable(context, host.Describe());

        ChunkedPrompt prompt;
        try
        {
            prompt = engine.Model.Prompts!.Read(request.Prompt, syntax, limits.Value.MaxPromptChunks, "prompt");
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
            MaxChunks(engine.Model, limits.Value), engine.Model.TokenizerMaxLength, prompt.Truncated, chunks));
    }

    /// <summary>The most chunks a prompt may take: Limits:MaxPromptChunks, or fewer when the UNet's text sequence is fixed.</summary>
    private static int MaxChunks(DiffusionEngine.Pipelines.ModelInfo model, LimitsOptions limits) =>
        Math.Min(limits.MaxPromptChunks, model.Prompts?.FixedChunks ?? int.MaxValue);
}
