using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using DiffusionApi.Options;
using DiffusionApi.Storage;

namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>
/// moto's S3 server (<c>python3 -m moto.server</c>) on a free 127.0.0.1 port, for the S3 image store's tests; stopped on
/// dispose. Tests skip with a message when moto is not installed, except in CI (<c>CI=true</c>), where it must be.
/// <see cref="Shared"/> is one server for the test run (each test uses its own bucket).
/// </summary>
public sealed class MotoServer : IAsyncDisposable
{
    /// <summary>moto accepts any credentials; these are what the tests and the service processes send.</summary>
    public const string AccessKey = "test";
    public const string SecretKey = "test";

    private static readonly Lazy<Task<MotoServer>> SharedServer = new(async () =>
    {
        var server = await StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Kill();
        return server;
    });

    private static readonly Lazy<bool> Installed = new(() =>
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo("python3", "-c \"import moto.server\"") { RedirectStandardError = true, UseShellExecute = false })!;
            probe.WaitForExit(30_000);
            return probe.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    private readonly Process _process;

    private MotoServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    public static string? SkipReason =>
        Installed.Value || IsCi ? null : "moto is not installed (python3 -m moto.server); the S3 image store tests are skipped (CI must have it)";

    public static Task<MotoServer> Shared => SharedServer.Value;

    private static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static async Task<MotoServer> StartAsync()
    {
        Skip.If(SkipReason is not null, SkipReason);
        var port = FreePort();
        var process = Process.Start(new ProcessStartInfo("python3")
        {
            ArgumentList = { "-m", "moto.server", "-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new MotoServer(process, port);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException("moto's server exited at start: is moto installed with its server extra (moto[server])?");
            try
            {
                if ((await http.GetAsync(server.ServiceUrl + "/")).IsSuccessStatusCode) return server;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                server.Kill();
                throw new TimeoutException($"moto's server did not answer on {server.ServiceUrl}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>S3 options for a new bucket on this server (created by the store when <paramref name="create"/>).</summary>
    public S3StorageOptions NewBucket(int presignMinutes = 0) => new()
    {
        Bucket = "images-" + Guid.NewGuid().ToString("N")[..12],
        ServiceUrl = ServiceUrl,
        ForcePathStyle = true,
        CreateBucket = true,
        PresignMinutes = presignMinutes,
    };

    public IAmazonS3 CreateClient(S3StorageOptions options) => S3Clients.Create(options, new BasicAWSCredentials(AccessKey, SecretKey));

    /// <summary>The settings and environment a service process needs to use this server's <paramref name="bucket"/>.</summary>
    public Dictionary<string, string> ServiceSettings(string bucket) => new()
    {
        ["Diffusion:Storage:Provider"] = "S3",
        ["Diffusion:Storage:S3:Bucket"] = bucket,
        ["Diffusion:Storage:S3:ServiceUrl"] = ServiceUrl,
        ["Diffusion:Storage:S3:ForcePathStyle"] = "true",
        ["Diffusion:Storage:S3:CreateBucket"] = "true",
        ["AWS_ACCESS_KEY_ID"] = AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = SecretKey,
        ["AWS_REGION"] = "us-east-1",
    };

    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(5000);
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
