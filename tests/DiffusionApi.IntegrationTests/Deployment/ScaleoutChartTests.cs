using DiffusionApi.Jobs.Redis;
using YamlDotNet.RepresentationModel;

namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>
/// The chart's scale-out values (issue 10 pt 7) checked as files, without helm: every new value is defined in
/// values.yaml and read by a template, the defaults keep the single-pod behaviour, and the Redis subchart is a
/// dependency on redis.enabled configured with AOF and noeviction. What the values render to (env, ScaledObject, roles,
/// grace period, failures) is checked with the real helm in <see cref="RenderedScaleoutChartTests"/>.
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
}
