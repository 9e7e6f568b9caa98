using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace DiffusionApi.IntegrationTests.TestSupport;

/// <summary>
/// A real redis-server for the Redis backend's tests: started on a free 127.0.0.1 port in a temp folder (append-only
/// file on, as production runs it, so a restart keeps the jobs), stopped and removed on dispose. Tests that need one
/// skip with a message when redis-server is not installed, except in CI (<c>CI=true</c>), where .ci/run installs it.
/// <see cref="Shared"/> is one server for the contract suites (each backend has its own key prefix); a test that
/// restarts or stops Redis starts its own.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly Lazy<Task<RedisServer>> SharedServer = new(async () =>
    {
        var server = await StartAsync();
        // The shared server lives as long as the test run; it is killed when the test process exits.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Kill();
        return server;
    });

    private readonly string _directory;
    private Process? _process;

    private RedisServer(int port, string directory)
    {
        Port = port;
        _directory = directory;
    }

    public int Port { get; }

    /// <summary>A StackExchange.Redis connection string (also Diffusion:Scaleout:Redis).</summary>
    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,syncTimeout=5000,asyncTimeout=5000";

    /// <summary>Why the Redis tests cannot run here, or null when they can.</summary>
    public static string? SkipReason =>
        Executable is not null || IsCi ? null : "redis-server is not installed; the Redis backend tests are skipped (CI installs it)";

    public static Task<RedisServer> Shared => SharedServer.Value;

    private static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static string? Executable =>
        new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server", "/opt/homebrew/bin/redis-server" }.FirstOrDefault(File.Exists);

    public static async Task<RedisServer> StartAsync()
    {
        Skip.If(SkipReason is not null, SkipReason);
        var server = new RedisServer(FreePort(), Directory.CreateTempSubdirectory("diffusion-redis-").FullName);
        await server.StartProcessAsync();
        return server;
    }

    public async Task<ConnectionMultiplexer> ConnectAsync() => await ConnectionMultiplexer.ConnectAsync(ConnectionString);

    /// <summary>Stops the server the hard way (kill -9): what the AOF holds survives, as after a crash.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process) process.Kill(entireProcessTree: true);
        _process?.WaitForExit(5000);
    }

    /// <summary>Starts the server again on the same port and folder (after <see cref="Kill"/>).</summary>
    public Task RestartAsync() => StartProcessAsync();

    public async ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        await Task.Yield();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo(Executable ?? "redis-server")
        {
            ArgumentList =
            {
                "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _directory,
                "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction", "--protected-mode", "no",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                await using var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer);
                if (read > 0 && buffer[0] == (byte)'+') return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
            }
            if (DateTime.UtcNow > deadline || _process.HasExited) throw new InvalidOperationException($"redis-server did not start on port {Port}");
            await Task.Delay(50);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
