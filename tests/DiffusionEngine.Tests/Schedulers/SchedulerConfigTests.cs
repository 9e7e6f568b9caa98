using DiffusionEngine.Schedulers;
using DiffusionEngine.Tests.TestSupport;

namespace DiffusionEngine.Tests.Schedulers;

public class SchedulerConfigTests
{
    [SharedDataFact]
    public void Sd15Config_ReadsEveryKey()
    {
        var config = SchedulerConfig.Load(SharedData.PathOf("sd15", "scheduler_config.json"));
        Assert.Equal("PNDMScheduler", config.ClassName);
        Assert.Equal(1000, config.GetInt32("num_train_timesteps", 0));
        Assert.Equal(0.00085, config.GetDouble("beta_start", 0));
        Assert.Equal(0.012, config.GetDouble("beta_end", 0));
        Assert.Equal("scaled_linear", config.GetString("beta_schedule", ""));
        Assert.False(config.GetBoolean("set_alpha_to_one", true));
        Assert.True(config.GetBoolean("skip_prk_steps", false));
        Assert.Equal(1, config.GetInt32("steps_offset", 0));
        Assert.False(config.GetBoolean("clip_sample", true));
        // "trained_betas": null is treated as absent, as diffusers passes None.
        Assert.Null(config.GetDoubleArray("trained_betas"));
        Assert.False(config.Contains("trained_betas"));
        // Absent keys give the caller's (the scheduler class's) default.
        Assert.Equal("leading", config.GetString("timestep_spacing", "leading"));
        Assert.Equal("linspace", config.GetString("timestep_spacing", "linspace"));
    }

    [Fact]
    public void FromJson_ReadsArraysNullablesAndWholeFloats()
    {
        var config = SchedulerConfig.FromJson("""
            { "trained_betas": [0.1, 0.2], "disable_corrector": [0, 2], "num_train_timesteps": 1000.0,
              "sigma_min": null, "sigma_max": 14.6, "lambda_min_clipped": -Infinity, "note": "NaN -Infinity", "x": "-inf" }
            """);
        Assert.Equal([0.1, 0.2], config.GetDoubleArray("trained_betas")!);
        Assert.Equal([0, 2], config.GetInt32Array("disable_corrector"));
        Assert.Equal(1000, config.GetInt32("num_train_timesteps", 0));
        Assert.Null(config.GetNullableDouble("sigma_min"));
        Assert.Equal(14.6, config.GetNullableDouble("sigma_max"));
        // json.dumps writes -inf as a bare -Infinity token; strings inside quotes stay as they are.
        Assert.Equal(double.NegativeInfinity, config.GetDouble("lambda_min_clipped", 0));
        Assert.Equal(double.NegativeInfinity, config.GetDouble("x", 0));
        Assert.Equal("NaN -Infinity", config.GetString("note", ""));
        Assert.Null(config.ClassName);
    }

    [Fact]
    public void WrongValueType_NamesTheKeyAndValue()
    {
        var config = SchedulerConfig.FromJson("""{ "steps_offset": "one" }""");
        var error = Assert.Throws<FormatException>(() => config.GetInt32("steps_offset", 0));
        Assert.Contains("steps_offset", error.Message);
        Assert.Contains("\"one\"", error.Message);
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("[1, 2]")]
    public void MalformedJson_Throws(string json)
    {
        Assert.Throws<FormatException>(() => SchedulerConfig.FromJson(json));
    }

    [Fact]
    public void With_ReturnsACopy_AndToJsonRoundTrips()
    {
        var original = SchedulerConfig.FromJson("""{ "_class_name": "DDIMScheduler", "steps_offset": 1 }""");
        var changed = original.With("use_karras_sigmas", true).With("steps_offset", null);
        Assert.False(original.Contains("use_karras_sigmas"));
        Assert.True(original.Contains("steps_offset"));
        Assert.True(changed.GetBoolean("use_karras_sigmas", false));
        Assert.False(changed.Contains("steps_offset"));
        var roundTrip = SchedulerConfig.FromJson(changed.ToJson());
        Assert.Equal("DDIMScheduler", roundTrip.ClassName);
        Assert.True(roundTrip.GetBoolean("use_karras_sigmas", false));
    }

    [Theory]
    [InlineData("beta_schedule", "cosine", "beta_schedule")]
    [InlineData("prediction_type", "flow", "prediction_type")]
    [InlineData("timestep_spacing", "uniform", "timestep_spacing")]
    public void UnsupportedValues_AreRejectedByName(string key, string value, string expectedInMessage)
    {
        var config = SchedulerConfig.Empty.With(key, value);
        foreach (var info in SchedulerFactory.All)
        {
            if (info.ClassName == LcmScheduler.ClassName && key == "timestep_spacing") continue; // LCM ignores the key, as diffusers does
            var error = Assert.Throws<ArgumentException>(() => SchedulerFactory.Create(info, config));
            Assert.Contains(expectedInMessage, error.Message);
            Assert.Contains(value, error.Message);
        }
    }
}
