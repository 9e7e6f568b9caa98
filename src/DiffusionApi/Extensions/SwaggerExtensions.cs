using System.Reflection;
using System.Text.Json.Nodes;
using DiffusionApi.Model;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace DiffusionApi.Extensions;

/// <summary>OpenAPI document at /swagger/v1/swagger.json and the UI at /swagger, with a schema and an example for every endpoint.</summary>
public static class SwaggerExtensions
{
    public static WebApplicationBuilder AddServiceSwagger(this WebApplicationBuilder builder)
    {
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "DiffusionService",
                Version = "v1",
                Description = "Text-to-image with Stable Diffusion on ONNX Runtime. Errors are RFC 9457 application/problem+json.",
            });
            var xml = Path.Combine(AppContext.BaseDirectory, $"{Assembly.GetExecutingAssembly().GetName().Name}.xml");
            if (File.Exists(xml)) options.IncludeXmlComments(xml);
            // Seeds are unsigned 64-bit: say so, with the bounds (Swashbuckle would call them int64).
            options.MapType<ulong>(UnsignedSchema);
            options.MapType<ulong?>(UnsignedSchema);
            options.SchemaFilter<ExampleSchemaFilter>();
            options.OperationFilter<ExampleOperationFilter>();
            options.DocumentFilter<OperationalEndpointsDocumentFilter>();
            options.AddSecurityDefinition("apiKey", new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "Required on /v1/* only when Diffusion:ApiKeys is set: 'Authorization: Bearer KEY' (or 'X-Api-Key: KEY').",
            });
            options.AddSecurityRequirement(document => new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("apiKey", document)] = [] });
        });
        return builder;
    }

    private static OpenApiSchema UnsignedSchema() => new()
    {
        Type = JsonSchemaType.Integer,
        Format = "uint64",
        Minimum = "0",
        Maximum = ulong.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static WebApplication UseServiceSwagger(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(o => o.SwaggerEndpoint("/swagger/v1/swagger.json", "DiffusionService v1"));
        return app;
    }

    /// <summary>An example value for each request and response type.</summary>
    private sealed class ExampleSchemaFilter : ISchemaFilter
    {
        private static readonly Dictionary<Type, Func<JsonNode>> Examples = new()
        {
            [typeof(ImageGenerationRequest)] = () => new JsonObject
            {
                ["prompt"] = "a watercolor fox in a snowy forest",
                ["n"] = 1,
                ["size"] = "512x512",
                ["response_format"] = "b64_json",
                ["negative_prompt"] = "blurry",
                ["steps"] = 20,
                ["guidance_scale"] = 7.5,
                ["seed"] = 42,
                ["scheduler"] = "euler_a",
                ["output_format"] = "png",
                ["rng"] = "cpu",
                ["prompt_syntax"] = "a1111",
                ["emphasis"] = "original",
                ["clip_skip"] = 1,
            },
            [typeof(ImageGenerationResponse)] = () => new JsonObject
            {
                ["created"] = 1764097200,
                ["data"] = new JsonArray(new JsonObject { ["url"] = "http://localhost:8080/v1/images/3f2b8c0d9e4a4b6f8a1c2d3e4f5a6b7c", ["seed"] = 42 }),
            },
            [typeof(ImageData)] = () => new JsonObject { ["b64_json"] = "iVBORw0KGgo...", ["seed"] = 42 },
            [typeof(ModelList)] = () => new JsonObject
            {
                ["object"] = "list",
                ["data"] = new JsonArray(new JsonObject
                {
                    ["id"] = "tiny-sd", ["object"] = "model", ["created"] = 1764097200, ["owned_by"] = "local",
                    ["state"] = "loaded", ["default"] = true, ["kind"] = "sd", ["capabilities"] = new JsonArray("txt2img", "img2img"),
                    ["default_scheduler"] = "pndm", ["execution_provider"] = "cpu", ["max_prompt_tokens"] = 77,
                    ["defaults"] = new JsonObject { ["width"] = 512, ["height"] = 512, ["steps"] = 20, ["guidance_scale"] = 7.5 },
                    ["max_prompt_chunks"] = 8, ["max_clip_skip"] = 1, ["error"] = null,
                }),
            },
            [typeof(SchedulerList)] = () => new JsonObject
            {
                ["default"] = "pndm",
                ["data"] = new JsonArray(new JsonObject { ["id"] = "euler_a", ["name"] = "Euler a", ["class_name"] = "EulerAncestralDiscreteScheduler", ["karras"] = false }),
            },
            [typeof(TokenizeRequest)] = () => new JsonObject { ["prompt"] = "a photo of a (cat:1.2)", ["prompt_syntax"] = "a1111", ["model"] = "tiny-sd" },
            [typeof(TokenizeResponse)] = () => new JsonObject
            {
                ["syntax"] = "a1111", ["token_count"] = 5, ["chunk_count"] = 1, ["max_chunks"] = 8, ["window"] = 77, ["truncated"] = false,
                ["chunks"] = new JsonArray(new JsonObject
                {
                    ["token_count"] = 5,
                    // BOS, "a photo of a cat", EOS, then EOS padding to the 77-token window; "cat" weighs 1.2.
                    ["ids"] = new JsonArray([.. new[] { 49406, 320, 1125, 539, 320, 2368 }.Concat(Enumerable.Repeat(49407, 71)).Select(id => (JsonNode)id)]),
                    ["weights"] = new JsonArray([.. Enumerable.Range(0, 77).Select(i => (JsonNode)(i == 5 ? 1.2 : 1.0))]),
                }),
            },
            [typeof(JobStatusResponse)] = () => new JsonObject
            {
                ["id"] = "job_5d1c0c7e0b7e4a0c9f4b8f2a6d3e1c2b",
                ["status"] = "running",
                ["created"] = 1764097200,
                ["progress"] = new JsonObject { ["step"] = 7, ["total_steps"] = 20 },
            },
            [typeof(JobProgress)] = () => new JsonObject { ["step"] = 7, ["total_steps"] = 20 },
            [typeof(Microsoft.AspNetCore.Http.HttpValidationProblemDetails)] = () => new JsonObject
            {
                ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.5.1",
                ["title"] = "The request is invalid",
                ["status"] = 400,
                ["errors"] = new JsonObject { ["size"] = new JsonArray("width must be a multiple of 8 but was 500") },
            },
            [typeof(Microsoft.AspNetCore.Mvc.ProblemDetails)] = () => new JsonObject
            {
                ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.6.4",
                ["title"] = "Service unavailable",
                ["status"] = 503,
                ["detail"] = "the queue is full (64 jobs waiting); retry later",
            },
        };

        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            if (schema is OpenApiSchema concrete && Examples.TryGetValue(context.Type, out var example)) concrete.Examples = [example()];
        }
    }

    /// <summary>The probes and the Prometheus endpoint are not minimal-API handlers; describe them here so every endpoint is documented.</summary>
    private sealed class OperationalEndpointsDocumentFilter : IDocumentFilter
    {
        public void Apply(OpenApiDocument document, DocumentFilterContext context)
        {
            Add(document, "/health/live", "Liveness: the process answers", "Healthy");
            Add(document, "/health/ready", "Readiness: model loaded, warm-up done, not draining (503 otherwise)", "Healthy");
            Add(document, "/metrics", "Prometheus metrics (text exposition format)", "# TYPE diffusion_queue_depth gauge\ndiffusion_queue_depth{otel_scope_name=\"DiffusionService\"} 0");
        }

        private static void Add(OpenApiDocument document, string path, string summary, string example)
        {
            var text = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String }, Example = example };
            var operation = new OpenApiOperation
            {
                Summary = summary,
                Tags = new HashSet<OpenApiTagReference> { new("Operations", document) },
                Security = [],
                Responses = new OpenApiResponses
                {
                    ["200"] = new OpenApiResponse { Description = "OK", Content = new Dictionary<string, IOpenApiMediaType> { ["text/plain"] = text } },
                },
            };
            if (path == "/health/ready")
                operation.Responses["503"] = new OpenApiResponse { Description = "Not ready", Content = new Dictionary<string, IOpenApiMediaType> { ["text/plain"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String }, Example = "Unhealthy" } } };
            var item = new OpenApiPathItem();
            item.AddOperation(HttpMethod.Get, operation);
            document.Paths ??= new OpenApiPaths();
            document.Paths[path] = item;
        }
    }

    /// <summary>Binary schemas for image answers and an example for path parameters.</summary>
    private sealed class ExampleOperationFilter : IOperationFilter
    {
        private static readonly HashSet<string> ImageOperations = ["Generate", "GetImage"];

        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            // Endpoints that answer with the image bytes: a binary schema for each image type.
            if (ImageOperations.Contains(operation.OperationId ?? "") && operation.Responses?.GetValueOrDefault("200") is OpenApiResponse ok)
            {
                ok.Description = "The image bytes";
                ok.Content = new Dictionary<string, IOpenApiMediaType>();
                foreach (var type in (string[])["image/png", "image/jpeg", "image/webp"])
                    ok.Content[type] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } };
            }
            foreach (var parameter in operation.Parameters ?? [])
            {
                if (parameter is OpenApiParameter { Name: "id" } concrete)
                    concrete.Example = (operation.OperationId ?? "").Contains("Job", StringComparison.Ordinal) ? "job_5d1c0c7e0b7e4a0c9f4b8f2a6d3e1c2b" : "3f2b8c0d9e4a4b6f8a1c2d3e4f5a6b7c";
                if (parameter is OpenApiParameter { Name: "model" } model) model.Example = "tiny-sd";
            }
        }
    }
}
