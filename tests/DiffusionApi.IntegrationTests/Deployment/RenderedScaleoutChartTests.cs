using DiffusionApi.Jobs.InMemory;
using DiffusionApi.Jobs.Redis;
using YamlDotNet.RepresentationModel;
using static DiffusionApi.IntegrationTests.Deployment.RenderedManifests;

namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>
/// The chart's scale-out values (issue 10 pt 7) rendered by the real helm (<c>helm template</c>, output parsed as YAML):
/// the defaults give today's single pod; each scaleout.*, redis.*, s3.* and autoscaling.keda.* value is set to a
/// non-default and its effect found in the objects; inconsistent values fail the render naming the value. Rendered from
/// a copy with a stand-in for the Bitnami redis subchart (<see cref="RenderableChart"/> says why). Skipped without helm
/// outside CI; in CI a missing helm fails them.
/// </summary>
public sealed class RenderedScaleoutChartTests(RenderableChart chart) : IClassFixture<RenderableChart>
{
    private const string Fullname = "r-diffusion-service";

    private static readonly string[] ExternalRedis = ["scaleout.enabled=true", "redis.external.existingSecret=diffusion-redis"];

    [SkippableFact]
    public void Defaults_RenderTodaysSinglePod_WithoutRedisS3OrAutoscaler()
    {
        var rendered = Render();

        Assert.Equal(
            new[] { "ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "ServiceAccount" }.Select(k => $"{k}/{Fullname}").Order(),
            rendered.Names.Order());
        var deployment = rendered.Single("Deployment", Fullname);
        Assert.Equal("1", Text(deployment, "spec.replicas"));
        var container = Container(deployment);
        Assert.Equal(["ASPNETCORE_HTTP_PORTS"], Env(container).Keys);
        Assert.Equal("1", StringMap(container, "resources.limits")["nvidia.com/gpu"]);
        // preStop 10 s + drain 30 s + 15 s margin; the longest job is not added without scale-out.
        Assert.Equal("55", Text(deployment, "spec.template.spec.terminationGracePeriodSeconds"));
        var data = StringMap(rendered.Single("ConfigMap", Fullname), "data");
        Assert.DoesNotContain(data.Keys, key => key.StartsWith("Diffusion__Scaleout__", StringComparison.Ordinal)
            || key.StartsWith("Diffusion__Storage__S3__", StringComparison.Ordinal) || key.StartsWith("AWS_", StringComparison.Ordinal));
        Assert.False(data.ContainsKey("Diffusion__Storage__Provider"));
        // One Deployment behind the Service: the selectors agree and carry no role component.
        Assert.Equal(StringMap(deployment, "spec.selector.matchLabels"), StringMap(rendered.Single("Service", Fullname), "spec.selector"));
        Assert.DoesNotContain("app.kubernetes.io/component", StringMap(deployment, "spec.template.metadata.labels").Keys);
    }

    [SkippableFact]
    public void ExternalRedis_TakesTheConnectionStringAndKedasAddressFromTheSecretKeys()
    {
        var rendered = Render([
            .. ExternalRedis, "redis.external.connectionStringKey=conn", "redis.external.addressKey=addr",
            "redis.external.passwordKey=pw", "scaleout.keyPrefix=team-a", "scaleout.maxQueueLength=500",
            "scaleout.leaseSeconds=90", "scaleout.maxAttempts=5",
        ]);

        var env = Env(Container(rendered.Single("Deployment", Fullname)));
        Assert.Equal(("diffusion-redis", "conn", null), SecretRef(env["Diffusion__Scaleout__Redis"]));
        Assert.Equal(("diffusion-redis", "addr", "true"), SecretRef(env["REDIS_ADDRESS"]));
        Assert.Equal(("diffusion-redis", "pw", "true"), SecretRef(env["REDIS_PASSWORD"]));
        var data = StringMap(rendered.Single("ConfigMap", Fullname), "data");
        Assert.Equal("Redis", data["Diffusion__Scaleout__Backend"]);
        Assert.Equal("team-a", data["Diffusion__Scaleout__KeyPrefix"]);
        Assert.Equal("500", data["Diffusion__Scaleout__MaxQueueLength"]);
        Assert.Equal("90", data["Diffusion__Scaleout__LeaseSeconds"]);
        Assert.Equal("5", data["Diffusion__Scaleout__MaxAttempts"]);
        // redis.enabled stays false in external mode: Helm leaves the subchart out.
        Assert.DoesNotContain("ConfigMap/r" + RenderableChart.StandInSuffix, rendered.Names);
    }

    [SkippableFact]
    public void ExternalRedis_WithoutAPasswordKey_PassesNoPasswordToThePodOrKeda()
    {
        var rendered = Render([
            .. ExternalRedis, "redis.external.passwordKey=", "autoscaling.enabled=true", "autoscaling.kind=keda",
            "autoscaling.keda.trigger=redis-streams",
        ]);

        Assert.DoesNotContain("REDIS_PASSWORD", Env(Container(rendered.Single("Deployment", Fullname))).Keys);
        var trigger = Trigger(rendered);
        Assert.Equal("REDIS_ADDRESS", Text(trigger, "metadata.addressFromEnv"));
        Assert.Null(Text(trigger, "metadata.passwordFromEnv"));
    }

    [SkippableTheory]
    [InlineData("r", "r-redis")]
    [InlineData("team-redis", "team-redis")] // Bitnami's rule: a release name that contains "redis" is used alone.
    public void SubchartRedis_BuildsTheConnectionStringFromTheSubchartsSecretAndService_AndHandsItAofAndNoEviction(string release, string redisFullname)
    {
        var rendered = Render(["scaleout.enabled=true", "redis.mode=subchart", "redis.enabled=true"], release: release);

        var deployment = rendered.Single("Deployment", $"{release}-diffusion-service");
        var env = Env(Container(deployment));
        Assert.Equal((redisFullname, "redis-password", null), SecretRef(env["REDIS_PASSWORD"]));
        Assert.Equal($"{redisFullname}-master:6379", Text(env["REDIS_ADDRESS"], "value"));
        Assert.Equal("$(REDIS_ADDRESS),password=$(REDIS_PASSWORD)", Text(env["Diffusion__Scaleout__Redis"], "value"));
        // Kubernetes expands $(NAME) only for variables defined earlier in the list.
        var order = env.Keys.ToList();
        Assert.True(order.IndexOf("REDIS_PASSWORD") < order.IndexOf("Diffusion__Scaleout__Redis")
            && order.IndexOf("REDIS_ADDRESS") < order.IndexOf("Diffusion__Scaleout__Redis"), string.Join(", ", order));
        // What the stand-in received under redis.* is what the Bitnami chart would get.
        var subchart = StringMap(rendered.Single("ConfigMap", release + RenderableChart.StandInSuffix), "data");
        Assert.Contains("appendonly yes", subchart["commonConfiguration"], StringComparison.Ordinal);
        Assert.Contains("maxmemory-policy noeviction", subchart["commonConfiguration"], StringComparison.Ordinal);
        Assert.Equal("standalone", subchart["architecture"]);
        Assert.Equal("true", subchart["authEnabled"]);
        Assert.Equal("true", subchart["masterPersistence"]);
    }

    [SkippableFact]
    public void S3Values_BecomeTheStorageSettings_AndTheCredentialsComeFromTheSecret()
    {
        var rendered = Render([
            "s3.enabled=true", "s3.bucket=diffusion-images", "s3.endpoint=http://minio.storage:9000", "s3.region=eu-west-1",
            "s3.forcePathStyle=true", "s3.prefix=generated/", "s3.createBucket=true", "s3.presignMinutes=15",
            "s3.existingSecret=diffusion-s3",
        ]);

        var data = StringMap(rendered.Single("ConfigMap", Fullname), "data");
        Assert.Equal("S3", data["Diffusion__Storage__Provider"]);
        Assert.Equal("diffusion-images", data["Diffusion__Storage__S3__Bucket"]);
        Assert.Equal("http://minio.storage:9000", data["Diffusion__Storage__S3__ServiceUrl"]);
        Assert.Equal("true", data["Diffusion__Storage__S3__ForcePathStyle"]);
        Assert.Equal("generated/", data["Diffusion__Storage__S3__Prefix"]);
        Assert.Equal("true", data["Diffusion__Storage__S3__CreateBucket"]);
        Assert.Equal("15", data["Diffusion__Storage__S3__PresignMinutes"]);
        Assert.Equal("eu-west-1", data["AWS_REGION"]);
        var env = Env(Container(rendered.Single("Deployment", Fullname)));
        Assert.Equal(("diffusion-s3", "AWS_ACCESS_KEY_ID", null), SecretRef(env["AWS_ACCESS_KEY_ID"]));
        Assert.Equal(("diffusion-s3", "AWS_SECRET_ACCESS_KEY", null), SecretRef(env["AWS_SECRET_ACCESS_KEY"]));
    }

    [SkippableFact]
    public void S3_WithoutASecret_LeavesCredentialsToThePodsIdentity()
    {
        var rendered = Render(["s3.enabled=true", "s3.bucket=diffusion-images"]);

        Assert.Equal("S3", StringMap(rendered.Single("ConfigMap", Fullname), "data")["Diffusion__Storage__Provider"]);
        Assert.DoesNotContain(Env(Container(rendered.Single("Deployment", Fullname))).Keys, key => key.StartsWith("AWS_", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void KedaRedisStreams_ScalesTheWorkersOnTheGroupsLagOnTheServicesStream_AndNoHpaIsRendered()
    {
        var rendered = Render([
            .. ExternalRedis, "scaleout.keyPrefix=team-a", "autoscaling.enabled=true", "autoscaling.kind=keda",
            "autoscaling.keda.trigger=redis-streams", "autoscaling.keda.lagCount=6",
        ]);

        Assert.Empty(rendered.OfKind("HorizontalPodAutoscaler"));
        var scaledObject = rendered.Single("ScaledObject", Fullname);
        Assert.Equal(Fullname, Text(scaledObject, "spec.scaleTargetRef.name"));
        var trigger = Trigger(rendered);
        Assert.Equal("redis-streams", Text(trigger, "type"));
        // The stream the service writes for the built-in model, and the group its workers read through.
        var settings = new RedisJobSettings("team-a", 1, TimeSpan.FromSeconds(60), 3, TimeSpan.FromSeconds(1), new JobRetention(TimeSpan.FromHours(1), TimeSpan.FromMinutes(1)));
        Assert.Equal(settings.StreamKey("tiny-sd"), Text(trigger, "metadata.stream"));
        Assert.Equal(RedisJobSettings.Group, Text(trigger, "metadata.consumerGroup"));
        Assert.Equal("6", Text(trigger, "metadata.lagCount"));
        // KEDA reads the address and password from the scaled container's environment.
        Assert.Equal("REDIS_ADDRESS", Text(trigger, "metadata.addressFromEnv"));
        Assert.Equal("REDIS_PASSWORD", Text(trigger, "metadata.passwordFromEnv"));
        var env = Env(Container(rendered.Single("Deployment", Fullname)));
        Assert.Contains("REDIS_ADDRESS", env.Keys);
        Assert.Contains("REDIS_PASSWORD", env.Keys);
    }

    [SkippableFact]
    public void KedaStream_OverridesTheDerivedStreamName()
    {
        var rendered = Render([
            .. ExternalRedis, "autoscaling.enabled=true", "autoscaling.kind=keda", "autoscaling.keda.trigger=redis-streams",
            "autoscaling.keda.stream=diffusion:stream:sd15",
        ]);

        Assert.Equal("diffusion:stream:sd15", Text(Trigger(rendered), "metadata.stream"));
    }

    [SkippableFact]
    public void KedaPrometheusTrigger_IsTheDefault_AndTheHpaKindRendersNoScaledObject()
    {
        var keda = Render(["autoscaling.enabled=true", "autoscaling.kind=keda"]);
        Assert.Equal("prometheus", Text(Trigger(keda), "type"));
        Assert.Empty(keda.OfKind("HorizontalPodAutoscaler"));

        var hpa = Render(["autoscaling.enabled=true", "autoscaling.kind=hpa"]);
        Assert.Single(hpa.OfKind("HorizontalPodAutoscaler"));
        Assert.Empty(hpa.OfKind("ScaledObject"));
    }

    [SkippableFact]
    public void GracePeriod_CoversTheLongestJobOnTopOfTheDrain_WithScaleout()
    {
        string[] timing = ["scaleout.longestJobSeconds=300", "config.shutdownTimeoutSeconds=40", "lifecycle.preStopSleepSeconds=10"];

        var scaleout = Render([.. ExternalRedis, .. timing]);
        var grace = int.Parse(Text(scaleout.Single("Deployment", Fullname), "spec.template.spec.terminationGracePeriodSeconds")!);
        Assert.True(grace >= 300 + 40 + 10, $"grace period {grace}s does not cover preStop 10 s + drain 40 s + longest job 300 s");

        var single = Render(timing);
        Assert.Equal("65", Text(single.Single("Deployment", Fullname), "spec.template.spec.terminationGracePeriodSeconds"));
    }

    [SkippableFact]
    public void SplitRoles_PutApiPodsBehindTheService_AndGpuWorkersBehindNone()
    {
        var rendered = Render([
            .. ExternalRedis, "scaleout.roles.split=true", "scaleout.roles.api.replicaCount=3",
            "scaleout.roles.api.resources.requests.cpu=750m", "s3.enabled=true", "s3.bucket=b", "s3.existingSecret=diffusion-s3",
            "autoscaling.enabled=true", "autoscaling.kind=keda", "autoscaling.keda.trigger=redis-streams",
        ]);

        var api = rendered.Single("Deployment", Fullname + "-api");
        var worker = rendered.Single("Deployment", Fullname);
        Assert.Equal("3", Text(api, "spec.replicas"));
        var apiContainer = Container(api);
        var apiEnv = Env(apiContainer);
        Assert.Equal("Api", Text(apiEnv["Diffusion__Node__Role"], "value"));
        Assert.Equal("750m", StringMap(apiContainer, "resources.requests")["cpu"]);
        Assert.DoesNotContain("nvidia.com/gpu", StringMap(apiContainer, "resources.limits").Keys);
        var workerContainer = Container(worker);
        var workerEnv = Env(workerContainer);
        Assert.Equal("Worker", Text(workerEnv["Diffusion__Node__Role"], "value"));
        Assert.Equal("1", StringMap(workerContainer, "resources.limits")["nvidia.com/gpu"]);
        // Both roles reach the same Redis and bucket.
        foreach (var env in new[] { apiEnv, workerEnv })
        {
            Assert.Equal(("diffusion-redis", "connection-string", null), SecretRef(env["Diffusion__Scaleout__Redis"]));
            Assert.Equal(("diffusion-s3", "AWS_ACCESS_KEY_ID", null), SecretRef(env["AWS_ACCESS_KEY_ID"]));
        }

        // The Service selects the API pods only; each Deployment selects its own pods only.
        var apiLabels = StringMap(api, "spec.template.metadata.labels");
        var workerLabels = StringMap(worker, "spec.template.metadata.labels");
        var service = StringMap(rendered.Single("Service", Fullname), "spec.selector");
        Assert.True(Selects(service, apiLabels));
        Assert.False(Selects(service, workerLabels));
        Assert.True(Selects(StringMap(api, "spec.selector.matchLabels"), apiLabels));
        Assert.False(Selects(StringMap(api, "spec.selector.matchLabels"), workerLabels));
        Assert.True(Selects(StringMap(worker, "spec.selector.matchLabels"), workerLabels));
        Assert.False(Selects(StringMap(worker, "spec.selector.matchLabels"), apiLabels));
        // One disruption budget per role, each over its own pods: a node drain may take an API pod and a worker at once.
        var workerBudget = StringMap(rendered.Single("PodDisruptionBudget", Fullname), "spec.selector.matchLabels");
        var apiBudget = StringMap(rendered.Single("PodDisruptionBudget", Fullname + "-api"), "spec.selector.matchLabels");
        Assert.Equal(2, rendered.OfKind("PodDisruptionBudget").Count);
        Assert.True(Selects(workerBudget, workerLabels));
        Assert.False(Selects(workerBudget, apiLabels));
        Assert.True(Selects(apiBudget, apiLabels));
        Assert.False(Selects(apiBudget, workerLabels));
        // KEDA scales the workers, never the API.
        Assert.Equal(Fullname, Text(rendered.Single("ScaledObject", Fullname), "spec.scaleTargetRef.name"));
    }

    /// <summary>
    /// For each scale-out value: settings it takes effect under, and the change (the value, plus any value it must be set
    /// with to stay consistent). The render must differ with the change; the tests above say how.
    /// </summary>
    public static TheoryData<string, string[], string[]> ValueChanges
    {
        get
        {
            string[] full =
            [
                .. ExternalRedis, "s3.enabled=true", "s3.bucket=b", "s3.existingSecret=diffusion-s3", "scaleout.roles.split=true",
                "autoscaling.enabled=true", "autoscaling.kind=keda", "autoscaling.keda.trigger=redis-streams",
            ];
            return new()
            {
                { "scaleout.enabled", ["redis.external.existingSecret=diffusion-redis"], ["scaleout.enabled=true"] },
                { "scaleout.keyPrefix", full, ["scaleout.keyPrefix=team-a"] },
                { "scaleout.maxQueueLength", full, ["scaleout.maxQueueLength=500"] },
                { "scaleout.leaseSeconds", full, ["scaleout.leaseSeconds=90"] },
                { "scaleout.maxAttempts", full, ["scaleout.maxAttempts=5"] },
                { "scaleout.longestJobSeconds", full, ["scaleout.longestJobSeconds=300"] },
                { "scaleout.roles.split", ExternalRedis, ["scaleout.roles.split=true"] },
                { "scaleout.roles.api.replicaCount", full, ["scaleout.roles.api.replicaCount=3"] },
                { "scaleout.roles.api.resources", full, ["scaleout.roles.api.resources.requests.cpu=750m"] },
                // redis.enabled is Helm's condition for the subchart and must agree with redis.mode: they change together.
                { "redis.mode", ["scaleout.enabled=true", "redis.external.existingSecret=diffusion-redis"], ["redis.mode=subchart", "redis.enabled=true"] },
                { "redis.enabled", ["scaleout.enabled=true", "redis.external.existingSecret=diffusion-redis"], ["redis.mode=subchart", "redis.enabled=true"] },
                { "redis.external.existingSecret", full, ["redis.external.existingSecret=other"] },
                { "redis.external.connectionStringKey", full, ["redis.external.connectionStringKey=conn"] },
                { "redis.external.addressKey", full, ["redis.external.addressKey=addr"] },
                { "redis.external.passwordKey", full, ["redis.external.passwordKey=pw"] },
                { "s3.enabled", ["s3.bucket=b"], ["s3.enabled=true"] },
                { "s3.bucket", full, ["s3.bucket=other"] },
                { "s3.endpoint", full, ["s3.endpoint=http://minio.storage:9000"] },
                { "s3.region", full, ["s3.region=eu-west-1"] },
                { "s3.forcePathStyle", full, ["s3.forcePathStyle=true"] },
                { "s3.prefix", full, ["s3.prefix=generated/"] },
                { "s3.createBucket", full, ["s3.createBucket=true"] },
                { "s3.presignMinutes", full, ["s3.presignMinutes=15"] },
                { "s3.existingSecret", full, ["s3.existingSecret=other"] },
                { "autoscaling.keda.trigger", full, ["autoscaling.keda.trigger=prometheus"] },
                { "autoscaling.keda.lagCount", full, ["autoscaling.keda.lagCount=6"] },
                { "autoscaling.keda.stream", full, ["autoscaling.keda.stream=diffusion:stream:sd15"] },
            };
        }
    }

    [Fact]
    public void ValueChanges_CoverEveryScaleoutValue()
    {
        var covered = ValueChanges.Select(row => (string)row[0]).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(ScaleoutChartTests.Values.Order(StringComparer.Ordinal), covered.Order(StringComparer.Ordinal));
    }

    [SkippableTheory]
    [MemberData(nameof(ValueChanges))]
    public void EveryScaleoutValue_ChangesTheRender(string path, string[] settings, string[] change)
    {
        var helm = HelmCli.Require();
        var before = helm.Template(chart.Directory, settings);
        var after = helm.Template(chart.Directory, [.. settings, .. change]);

        Assert.True(before.ExitCode == 0, before.ToString());
        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.False(before.Stdout == after.Stdout, $"{path}: setting {string.Join(", ", change)} changed nothing in the render");
        // Both renders are whole, parseable sets of objects.
        Assert.NotEmpty(before.Manifests().Objects);
        Assert.NotEmpty(after.Manifests().Objects);
    }

    [SkippableTheory]
    [InlineData(new[] { "redis.mode=sentinel" }, "redis.mode must be external or subchart but was \"sentinel\"")]
    [InlineData(new[] { "redis.mode=subchart" }, "redis.enabled (Helm's condition for the redis subchart) must be true exactly when redis.mode is subchart")]
    [InlineData(new[] { "redis.enabled=true" }, "redis.enabled (Helm's condition for the redis subchart) must be true exactly when redis.mode is subchart")]
    [InlineData(new[] { "scaleout.enabled=true" }, "scaleout.enabled with redis.mode external needs redis.external.existingSecret")]
    [InlineData(new[] { "scaleout.roles.split=true" }, "scaleout.roles.split needs scaleout.enabled")]
    [InlineData(new[] { "autoscaling.keda.trigger=cpu" }, "autoscaling.keda.trigger must be prometheus or redis-streams but was \"cpu\"")]
    [InlineData(new[] { "autoscaling.keda.trigger=redis-streams" }, "autoscaling.keda.trigger redis-streams needs scaleout.enabled")]
    [InlineData(new[] { "s3.enabled=true" }, "s3.bucket is required when s3.enabled")]
    [InlineData(new[] { "scaleout.enabled=true", "redis.external.existingSecret=s", "terminationGracePeriodSeconds=300", "scaleout.longestJobSeconds=300" },
        "terminationGracePeriodSeconds must exceed lifecycle.preStopSleepSeconds + config.shutdownTimeoutSeconds (+ scaleout.longestJobSeconds with scaleout) (340) but was 300")]
    public void InconsistentValues_FailTheRenderNamingTheValue(string[] sets, string message)
    {
        var result = HelmCli.Require().Template(chart.Directory, sets);

        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("defaults", new string[0])]
    [InlineData("external Redis, S3, split roles, KEDA on the stream", new[] { "scaleout.enabled=true", "redis.external.existingSecret=s", "scaleout.roles.split=true", "s3.enabled=true", "s3.bucket=b", "s3.existingSecret=c", "autoscaling.enabled=true", "autoscaling.kind=keda", "autoscaling.keda.trigger=redis-streams" })]
    [InlineData("Redis subchart, HPA", new[] { "scaleout.enabled=true", "redis.mode=subchart", "redis.enabled=true", "autoscaling.enabled=true", "autoscaling.kind=hpa" })]
    public void HelmLintStrict_Passes(string settings, string[] sets)
    {
        var result = HelmCli.Require().Lint(chart.Directory, sets);

        Assert.True(result.ExitCode == 0, $"{settings}: {result}");
    }

    private RenderedManifests Render(IEnumerable<string>? sets = null, string release = "r") =>
        HelmCli.Require().Template(chart.Directory, sets, release: release).Manifests();

    private static YamlMappingNode Trigger(RenderedManifests rendered) =>
        (YamlMappingNode)Assert.Single(((YamlSequenceNode)Node(Assert.Single(rendered.OfKind("ScaledObject")), "spec.triggers")!).Children);

    private static bool Selects(IReadOnlyDictionary<string, string> selector, IReadOnlyDictionary<string, string> labels) =>
        selector.Count > 0 && selector.All(pair => labels.TryGetValue(pair.Key, out var value) && value == pair.Value);
}
