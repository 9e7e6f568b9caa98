using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using DiffusionApi.IntegrationTests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace DiffusionApi.IntegrationTests.Observability;

public sealed class TelemetryTests
{
    [Fact]
    public async Task GenerationRequest_ProducesOneTraceWithQueueEngineEncodingAndStorageSpans()
    {
        var spans = new List<Activity>();
        await using var factory = new DiffusionApiFactory(services: s => s.ConfigureOpenTelemetryTracerProvider(b => b.AddInMemoryExporter(spans)));
        var client = await factory.CreateReadyClientAsync();
        var traceId = ActivityTraceId.CreateRandom();
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/images/generations") { Content = JsonContent.Create(Requests.Small(responseFormat: "url")) };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");

        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        string[] expected =
        [
            "diffusion.queue_wait", "diffusion.batch", "diffusion.text_encode", "diffusion.denoise",
            "diffusion.vae_decode", "diffusion.image_encode", "diffusion.store",
        ];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string[] names = [];
        while (DateTime.UtcNow < deadline)
        {
            lock (spans) names = spans.Where(s => s.TraceId == traceId).Select(s => s.OperationName).ToArray();
            if (expected.All(names.Contains)) break;
            await Task.Delay(20);
        }
        Assert.All(expected, name => Assert.Contains(name, names));
    }

    [Fact]
    public async Task Metrics_ArePublishedInPrometheusFormat()
    {
        await using var factory = new DiffusionApiFactory();
        var client = await factory.CreateReadyClientAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.PostGenerateAsync(Requests.Small())).StatusCode);

        var text = "";
        string[] expected =
        [
            "diffusion_queue_depth", "diffusion_queue_wait_seconds", "diffusion_job_duration_seconds", "diffusion_batch_size",
            "diffusion_step_duration_seconds", "diffusion_images_generated_total",
            // Every rejection reason is exported from the start, at 0, so alerts and dashboards have a series.
            "diffusion_requests_rejected_total{otel_scope_name=\"DiffusionService\",reason=\"queue_full\"} 0",
            "diffusion_requests_rejected_total{otel_scope_name=\"DiffusionService\",reason=\"draining\"} 0",
            "diffusion_requests_rejected_total{otel_scope_name=\"DiffusionService\",reason=\"rate_limited\"} 0",
        ];
        // The Prometheus exporter caches a scrape briefly; poll until the generation shows.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            text = await client.GetStringAsync("/metrics");
            if (expected.All(m => text.Contains(m, StringComparison.Ordinal))) break;
            await Task.Delay(100);
        }
        Assert.All(expected, metric => Assert.Contains(metric, text, StringComparison.Ordinal));
        // Buckets fit the quantity: sub-10 ms steps and queue waits, and batch sizes one by one up to 4.
        Assert.Contains("diffusion_step_duration_seconds_bucket{otel_scope_name=\"DiffusionService\",le=\"0.005\"}", text, StringComparison.Ordinal);
        Assert.Contains("diffusion_queue_wait_seconds_bucket{otel_scope_name=\"DiffusionService\",le=\"0.01\"}", text, StringComparison.Ordinal);
        Assert.Contains("diffusion_job_duration_seconds_bucket{otel_scope_name=\"DiffusionService\",outcome=\"succeeded\",le=\"0.5\"}", text, StringComparison.Ordinal);
        Assert.Contains("diffusion_batch_size_bucket{otel_scope_name=\"DiffusionService\",le=\"2\"}", text, StringComparison.Ordinal);
    }
}
