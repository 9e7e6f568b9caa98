using DiffusionApi.Engine;
using DiffusionApi.Extensions;
using DiffusionApi.Model;
using DiffusionApi.Options;
using DiffusionEngine.Schedulers;
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
        group.MapPost("/tokenize", Tokenize).WithName("Tokenize").WithJsonBody(V1FieldAdvice.Table).WithSummary("Token ids of a prompt and whether it fits the model's token window")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    public static Results<Ok<ModelList>, ProblemHttpResult> GetModels(HttpContext context, ModelHost host)
    {
        if (host.Engine is not { } engine) return ProblemResults.Unavailable(context, host.Describe());
        var model = engine.Model;
        var created = Directory.Exists(model.Directory) ? new DateTimeOffset(Directory.GetCreationTimeUtc(model.Directory)).ToUnixTimeSeconds() : 0;
        return TypedResults.Ok(new ModelList("list",
            [new ModelEntry(model.Name, "model", created, "local", model.DefaultScheduler, model.ExecutionProvider, model.TokenizerMaxLength,
                ModelDefaults.From(GenerationDefaults.For(model)))]));
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
        TokenizeRequest request, HttpContext context, ModelHost host, IOptions<LimitsOptions> limits)
    {
        if (string.IsNullOrEmpty(request.Prompt)) return ProblemResults.Invalid(new() { ["prompt"] = ["prompt is required"] });
        if (request.Prompt.Length > limits.Value.MaxPromptLength)
            return ProblemResults.Invalid(new() { ["prompt"] = [$"prompt must be at most {limits.Value.MaxPromptLength} characters but was {request.Prompt.Length}"] });
        if (host.Engine is not { } engine) return ProblemResults.Unavailable(context, host.Describe());
        var tokens = engine.Tokenize(request.Prompt);
        return TypedResults.Ok(new TokenizeResponse(tokens.Ids, tokens.Count, engine.Model.TokenizerMaxLength, tokens.Truncated, tokens.UntruncatedCount));
    }
}
