using System.Reflection;
using DiffusionApi.Options;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Extensions;

/// <summary>
/// Runs the service so that a configuration that cannot work ends the process with exit code 1 and one line that names
/// the setting. Unhandled, the exception would escape Main: the runtime aborts (exit 134) with a stack trace and the
/// logs unflushed, which tells an operator nothing about which setting to fix.
/// </summary>
public static class ServiceRunExtensions
{
    public static int RunService(this WebApplication app)
    {
        try
        {
            app.Run();
            return Environment.ExitCode;
        }
        catch (Exception ex) when (IsOwnProcess && ConfigurationProblem(ex) is { } problem)
        {
            // The host and its loggers are disposed by now: stderr is what is left, and what a container runtime shows.
            Console.Error.WriteLine($"The service cannot start: {problem}");
            return 1;
        }
    }

    /// <summary>
    /// Only the process this service is the entry point of decides its exit code. A host that calls Main itself
    /// (WebApplicationFactory in tests) learns of the failure through the exception, as it expects.
    /// </summary>
    private static bool IsOwnProcess => Assembly.GetEntryAssembly() == typeof(ServiceRunExtensions).Assembly;

    /// <summary>What is wrong with the configuration, when that is why <paramref name="exception"/> was thrown.</summary>
    private static string? ConfigurationProblem(Exception exception) => exception switch
    {
        OptionsValidationException invalid => string.Join("; ", invalid.Failures),
        SettingException setting => setting.Message,
        TargetInvocationException { InnerException: { } inner } => ConfigurationProblem(inner),
        AggregateException { InnerExceptions.Count: 1 } aggregate => ConfigurationProblem(aggregate.InnerExceptions[0]),
        _ => null,
    };
}
