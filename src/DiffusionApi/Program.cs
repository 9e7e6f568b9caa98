using DiffusionApi.Apis;
using DiffusionApi.Apis.Sdapi;
using DiffusionApi.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceLogging();
builder.AddServiceSecurityHeaders();
builder.AddApplicationServices();
builder.AddServiceTelemetry();
builder.AddServiceHealthChecks();
builder.AddServiceProblemDetails();
builder.AddServiceSwagger();
builder.AddServiceRateLimiting();
builder.AddServiceCors();
builder.AddPlayground();

var app = builder.Build();
app.UseServiceSecurityHeaders();
app.UseServiceRequestLogging();
app.UseServiceProblemDetails();
app.UseServiceSwagger();
app.UsePlayground();
app.UseServiceCors();
app.UseApiKeys();
app.UseRateLimiter();
app.UseJsonRequestBodies();

app.MapOpenAiImagesApi();
app.MapGenerationApi();
app.MapImagesApi();
app.MapDiscoveryApi();
app.MapJobsApi();
app.MapSdapi();
app.MapServiceHealthChecks();
app.MapServiceMetrics();

return app.RunService();

/// <summary>The entry point; public so that WebApplicationFactory&lt;Program&gt; can host it in tests.</summary>
public partial class Program;
