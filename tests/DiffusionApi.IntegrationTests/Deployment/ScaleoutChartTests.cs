using DiffusionApi.Jobs.InMemory;
using DiffusionApi.Jobs.Redis;
using YamlDotNet.RepresentationModel;

namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>
/// The chart's scale-out values (issue 10 pt 7), checked without a helm binary: every new value is read by a template,
/// the defaults keep the single-pod behaviour, Redis is configured with AOF and noeviction, the KEDA redis-streams
/// trigger watches the stream and group the service writes, the grace period covers the longest job on top of the
/// drain, split roles give an API Deployment behind the Service and workers behind none, and inconsistent values fail
/// the render naming the value.
/// </summary>
public sealed class ScaleoutChartTests
{
    private readonly HelmChart _chart = HelmChart.Load();

    [Theory]
    [InlineData("scaleout.enabled")]
    [InlineData("scaleout.keyPrefix")]
    [InlineData("scaleout.maxQueueLength")]
    [InlineData("scaleout.leaseSeconds")]
    [InlineData("scaleout.maxAttempts")]
    [InlineData("scaleout.longestJobSeconds")]
    [InlineData("scaleout.roles.split")]
    [InlineData("scaleout.roles.api.replicaCount")]
    [InlineData("scaleout.roles.api.resources")]
    [InlineData("redis.mode")]
    [InlineData("redis.enabled")]
    [InlineData("redis.external.existingSecret")]
    [InlineData("redis.external.connectionStringKey")]
    [InlineData("redis.external.addressKey")]
    [InlineData("redis.external.passwordKey")]
    [InlineData("s3.enabled")]
    [InlineData("s3.bucket")]
    [InlineData("s3.endpoint")]
    [InlineData("s3.region")]
    [InlineData("s3.forcePathStyle")]
    [InlineData("s3.prefix")]
    [InlineData("s3.createBucket")]
    [InlineData("s3.presignMinutes")]
    [InlineData("s3.existingSecret")]
    [InlineData("autoscaling.keda.trigger")]
    [InlineData("autoscaling.keda.lagCount")]
    [InlineData("autoscaling.keda.stream")]
    public void EveryScaleoutValue_IsDefined_AndReadByATemplate(string path)
    {
        Assert.Null(_chart.Values.FindMissing(path.Split('.')));
        var read = _chart.Templates.SelectMany(t => ValuesReferenceScanner.Scan(t.Name, t.Text)).Select(r => r.Expression.TrimStart('$')).ToHashSet();
        Assert.Contains(".Values." + path, read);
    }

    [Fact]
    public void Defaults_KeepOnePodWithItsOwnQueueAndImages()
    {
        Assert.Equal("false", _chart.Values.Scalar("scaleout.enabled"));
        Assert.Equal("false", _chart.Values.Scalar("scaleout.roles.split"));
        Assert.Equal("false", _chart.Values.Scalar("s3.enabled"));
        Assert.Equal("external", _chart.Values.Scalar("redis.mode"));
        Assert.Equal("false", _chart.Values.Scalar("redis.enabled"));
        Assert.Equal("prometheus", _chart.Values.Scalar("autoscaling.keda.trigger"));
        Assert.Equal(RedisJobSettings.DefaultPrefix, _chart.Values.Scalar("scaleout.keyPrefix"));
    }

    [Fact]
    public void TheRedisSubchart_RunsWithAppendOnlyAndNoEviction_AndIsADependencyOnRedisEnabled()
    {
        var configuration = _chart.Values.Scalar("redis.commonConfiguration");
        Assert.Contains("appendonly yes", configuration, StringComparison.Ordinal);
        Assert.Contains("maxmemory-policy noeviction", configuration, StringComparison.Ordinal);
        var dependencies = Assert.IsType<YamlSequenceNode>(_chart.Chart.Children[new YamlScalarNode("dependencies")]);
        var redis = Assert.IsType<YamlMappingNode>(Assert.Single(dependencies.Children));
        Assert.Equal("redis", ((YamlScalarNode)redis.Children[new YamlScalarNode("name")]).Value);
        Assert.Equal("redis.enabled", ((YamlScalarNode)redis.Children[new YamlScalarNode("condition")]).Value);
    }

    [Fact]
    public void TheConfigMap_SelectsRedisAndS3_OnlyWhenEnabled()
    {
        var configMap = Template("configmap.yaml");
        AssertAfter(configMap, "{{- if .Values.scaleout.enabled }}", "Diffusion__Scaleout__Backend: Redis");
        foreach (var name in new[] { "KeyPrefix", "MaxQueueLength", "LeaseSeconds", "MaxAttempts" })
            Assert.Contains($"Diffusion__Scaleout__{name}:", configMap, StringComparison.Ordinal);
        AssertAfter(configMap, "{{- if .Values.s3.enabled }}", "Diffusion__Storage__Provider: S3");
        foreach (var name in new[] { "Bucket", "ServiceUrl", "ForcePathStyle", "Prefix", "CreateBucket", "PresignMinutes" })
            Assert.Contains($"Diffusion__Storage__S3__{name}:", configMap, StringComparison.Ordinal);
    }

    [Fact]
    public void TheConnectionString_ComesFromASecret_InBothModes()
    {
        var helpers = Template("_helpers.tpl");
        AssertAfter(helpers, "- name: Diffusion__Scaleout__Redis\n  valueFrom:\n    secretKeyRef:", "key: {{ .Values.redis.external.connectionStringKey }}");
        AssertAfter(helpers, "- name: REDIS_PASSWORD\n  valueFrom:\n    secretKeyRef:", "key: redis-password");
        Assert.Contains("value: \"$(REDIS_ADDRESS),password=$(REDIS_PASSWORD)\"", helpers, StringComparison.Ordinal);
        Assert.Contains("include \"diffusion-service.scaleoutEnv\"", Template("deployment.yaml"), StringComparison.Ordinal);
        Assert.Contains("include \"diffusion-service.scaleoutEnv\"", Template("api-deployment.yaml"), StringComparison.Ordinal);
    }

    [Fact]
    public void Keda_RedisStreamsTrigger_WatchesTheStreamAndGroupTheServiceWrites()
    {
        var scaledObject = Template("scaledobject.yaml");
        AssertAfter(scaledObject, "{{- if eq .Values.autoscaling.keda.trigger \"redis-streams\" }}", "- type: redis-streams");
        Assert.Contains($"consumerGroup: {RedisJobSettings.Group}", scaledObject, StringComparison.Ordinal);
        Assert.Contains("lagCount: {{ .Values.autoscaling.keda.lagCount | quote }}", scaledObject, StringComparison.Ordinal);
        Assert.Contains("addressFromEnv: REDIS_ADDRESS", scaledObject, StringComparison.Ordinal);
        // The chart's default stream name is the service's own key for the model.
        var settings = new RedisJobSettings("diffusion", 1, TimeSpan.FromSeconds(60), 3, TimeSpan.FromSeconds(1), new JobRetention(TimeSpan.FromHours(1), TimeSpan.FromMinutes(1)));
        Assert.Equal("diffusion:stream:models", settings.StreamKey("models"));
        Assert.Contains("printf \"%s:stream:%s\" .Values.scaleout.keyPrefix $model", Template("_helpers.tpl"), StringComparison.Ordinal);
        // KEDA replaces the HPA: hpa.yaml renders only for kind hpa.
        Assert.Contains("{{- if eq .Values.autoscaling.kind \"hpa\" }}", Template("hpa.yaml"), StringComparison.Ordinal);
    }

    [Fact]
    public void TheGracePeriod_AddsTheLongestJob_WithScaleout()
    {
        AssertAfter(Template("_helpers.tpl"), "{{- if .Values.scaleout.enabled }}", "{{- $needed = add $needed (int .Values.scaleout.longestJobSeconds) }}");
        Assert.True(int.Parse(_chart.Values.Scalar("scaleout.longestJobSeconds")) > 0);
    }

    [Fact]
    public void SplitRoles_GiveCpuApiPodsBehindTheService_AndGpuWorkersBehindNone()
    {
        var api = Template("api-deployment.yaml");
        Assert.StartsWith("{{- if .Values.scaleout.roles.split }}", api, StringComparison.Ordinal);
        Assert.Contains("- name: Diffusion__Node__Role\n              value: Api", api, StringComparison.Ordinal);
        Assert.DoesNotContain(".Values.gpu", api, StringComparison.Ordinal);
        Assert.Contains("- name: Diffusion__Node__Role\n              value: Worker", Template("deployment.yaml"), StringComparison.Ordinal);
        Assert.Contains("(dict \"root\" . \"component\" \"api\")", Template("service.yaml"), StringComparison.Ordinal);
        Assert.Contains("(dict \"root\" . \"component\" \"worker\")", Template("deployment.yaml"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("redis.mode must be external or subchart")]
    [InlineData("redis.enabled (Helm's condition for the redis subchart) must be true exactly when redis.mode is subchart")]
    [InlineData("scaleout.enabled with redis.mode external needs redis.external.existingSecret")]
    [InlineData("scaleout.roles.split needs scaleout.enabled")]
    [InlineData("autoscaling.keda.trigger must be prometheus or redis-streams")]
    [InlineData("autoscaling.keda.trigger redis-streams needs scaleout.enabled")]
    public void InconsistentValues_FailTheRenderNamingTheValue(string message)
    {
        Assert.Contains("{{- fail ", Template("_helpers.tpl"), StringComparison.Ordinal);
        Assert.Contains(message, Template("_helpers.tpl"), StringComparison.Ordinal);
        Assert.Contains("include \"diffusion-service.validateScaleout\"", Template("deployment.yaml"), StringComparison.Ordinal);
    }

    private string Template(string name) => _chart.Templates.Single(template => template.Name == name).Text;

    private static void AssertAfter(string text, string guard, string expected)
    {
        var at = text.IndexOf(guard, StringComparison.Ordinal);
        Assert.True(at >= 0, $"missing: {guard}");
        Assert.True(text.IndexOf(expected, at, StringComparison.Ordinal) > at, $"'{expected}' does not follow '{guard}'");
    }
}
