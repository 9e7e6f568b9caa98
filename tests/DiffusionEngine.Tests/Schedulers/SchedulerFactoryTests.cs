using DiffusionEngine.Schedulers;
using DiffusionEngine.Tests.TestSupport;

namespace DiffusionEngine.Tests.Schedulers;

public class SchedulerFactoryTests
{
    [Theory]
    [InlineData("ddim", typeof(DdimScheduler))]
    [InlineData("DDIM", typeof(DdimScheduler))]
    [InlineData("DDIMScheduler", typeof(DdimScheduler))]
    [InlineData("pndm", typeof(PndmScheduler))]
    [InlineData("PLMS", typeof(PndmScheduler))]
    [InlineData("PNDMScheduler", typeof(PndmScheduler))]
    [InlineData("euler", typeof(EulerDiscreteScheduler))]
    [InlineData("Euler", typeof(EulerDiscreteScheduler))]
    [InlineData("EulerDiscreteScheduler", typeof(EulerDiscreteScheduler))]
    [InlineData("euler_a", typeof(EulerAncestralDiscreteScheduler))]
    [InlineData("Euler a", typeof(EulerAncestralDiscreteScheduler))]
    [InlineData("EulerAncestralDiscreteScheduler", typeof(EulerAncestralDiscreteScheduler))]
    [InlineData("lms", typeof(LmsDiscreteScheduler))]
    [InlineData("LMS", typeof(LmsDiscreteScheduler))]
    [InlineData("LMSDiscreteScheduler", typeof(LmsDiscreteScheduler))]
    [InlineData("dpmpp_2m", typeof(DpmSolverMultistepScheduler))]
    [InlineData("DPM++ 2M", typeof(DpmSolverMultistepScheduler))]
    [InlineData("DPMSolverMultistepScheduler", typeof(DpmSolverMultistepScheduler))]
    [InlineData("unipc", typeof(UniPcMultistepScheduler))]
    [InlineData("UniPC", typeof(UniPcMultistepScheduler))]
    [InlineData("UniPCMultistepScheduler", typeof(UniPcMultistepScheduler))]
    [InlineData("lcm", typeof(LcmScheduler))]
    [InlineData("LCM", typeof(LcmScheduler))]
    [InlineData("LCMScheduler", typeof(LcmScheduler))]
    public void Create_AcceptsIdsDisplayNamesAndClassNames(string name, Type expected)
    {
        Assert.IsType(expected, SchedulerFactory.Create(name, SchedulerConfig.Empty));
    }

    [Theory]
    [InlineData("euler_a", "Euler a")]
    [InlineData("DPMSolverMultistepScheduler", "DPM++ 2M")]
    [InlineData("dpmpp_2m_karras", "DPM++ 2M Karras")]
    [InlineData("KDPM2DiscreteScheduler", "KDPM2DiscreteScheduler")]
    public void DisplayNameOf_GivesTheA1111NameOrTheUnknownNameItself(string name, string expected)
    {
        Assert.Equal(expected, SchedulerFactory.DisplayNameOf(name));
    }

    [Theory]
    [InlineData("dpmpp_2m_karras")]
    [InlineData("DPM++ 2M Karras")]
    [InlineData("euler_karras")]
    [InlineData("lms_karras")]
    [InlineData("unipc_karras")]
    [InlineData("DPMSolverMultistepScheduler_karras")]
    public void KarrasNames_TurnKarrasSigmasOn(string name)
    {
        Assert.True(SchedulerFactory.TryResolve(name, out var info));
        Assert.True(info.Karras);
        var scheduler = SchedulerFactory.Create(name, SchedulerConfig.Empty);
        var karras = scheduler switch
        {
            EulerDiscreteScheduler s => s.UseKarrasSigmas,
            LmsDiscreteScheduler s => s.UseKarrasSigmas,
            DpmSolverMultistepScheduler s => s.UseKarrasSigmas,
            UniPcMultistepScheduler s => s.UseKarrasSigmas,
            _ => false,
        };
        Assert.True(karras);
    }

    [Fact]
    public void DpmppKarras_GivesTheKarrasTimesteps()
    {
        var config = SchedulerConfig.Empty.With("final_sigmas_type", "sigma_min").With("lower_order_final", false);
        var scheduler = SchedulerFactory.Create("dpmpp_2m_karras", config);
        scheduler.SetTimesteps(10);
        Assert.Equal([999f, 937, 864, 775, 663, 511, 301, 102, 18, 0], scheduler.Timesteps);
    }

    [Theory]
    [InlineData("euler_a_karras")]
    [InlineData("heun")]
    [InlineData("")]
    public void UnknownName_ThrowsListingTheAcceptedNames(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => SchedulerFactory.Create(name, SchedulerConfig.Empty));
        Assert.Contains($"'{name}'", error.Message);
        foreach (var info in SchedulerFactory.All)
        {
            Assert.Contains(info.Id, error.Message);
            Assert.Contains(info.DisplayName, error.Message);
            Assert.Contains(info.ClassName, error.Message);
        }
    }

    [Fact]
    public void All_HasUniqueIdsAndDisplayNames_AndEveryEntryResolvesToItself()
    {
        Assert.Equal(SchedulerFactory.All.Count, SchedulerFactory.All.Select(i => i.Id).Distinct().Count());
        Assert.Equal(SchedulerFactory.All.Count, SchedulerFactory.All.Select(i => i.DisplayName).Distinct().Count());
        foreach (var info in SchedulerFactory.All)
        {
            Assert.True(SchedulerFactory.TryResolve(info.Id, out var byId));
            Assert.Equal(info, byId);
            Assert.True(SchedulerFactory.TryResolve(info.DisplayName, out var byName));
            Assert.Equal(info, byName);
        }
    }

    [SharedDataFact]
    public void CreateDefault_UsesTheConfigsOwnClass()
    {
        var config = SchedulerConfig.Load(SharedData.PathOf("sd15", "scheduler_config.json"));
        Assert.Equal("PNDMScheduler", config.ClassName);
        var scheduler = Assert.IsType<PndmScheduler>(SchedulerFactory.CreateDefault(config));
        Assert.True(scheduler.SkipPrkSteps);
    }

    [Fact]
    public void CreateDefault_WithoutClassName_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => SchedulerFactory.CreateDefault(SchedulerConfig.Empty));
        Assert.Contains("_class_name", error.Message);
    }
}
