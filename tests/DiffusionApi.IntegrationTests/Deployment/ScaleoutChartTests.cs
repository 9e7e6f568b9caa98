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

    /// <summary>The values the scale-out work added to the chart; each must be defined, read and (rendered) take effect.</summary>
    public static readonly IReadOnlyList<string> Values =
    [
        "scaleout.enabled",
        "scaleout.keyPrefix",
        "scaleout.maxQueueLength",
        "scaleout.leaseSeconds",
        "scaleout.maxAttempts",
        "scaleout.longestJobSeconds",
        "scaleout.roles.split",
        "scaleout.roles.api.replicaCount",
        "scaleout.roles.api.resources",
        "redis.mode",
        "redis.enabled",
        "redis.external.existingSecret",
        "redis.external.connectionStringKey",
        "redis.external.addressKey",
        "redis.external.passwordKey",
        "s3.enabled",
        "s3.bucket",
        "s3.endpoint",
        "s3.region",
        "s3.forcePathStyle",
        "s3.prefix",
        "s3.createBucket",
        "s3.presignMinutes",
        "s3.existingSecret",
        "autoscaling.keda.trigger",
        "autoscaling.keda.lagCount",
        "autoscaling.keda.stream",
    ];

    public static TheoryData<string> ValuePaths => new(Values);

    [Theory]
    [MemberData(nameof(ValuePaths))]
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
