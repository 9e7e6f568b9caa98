using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DiffusionApi.Bench;

/// <summary>The service on real Kestrel in its own process, bound to 127.0.0.1 on a free port; killed on dispose.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _dataDirectory;

    private ServiceProcess(Process process, Uri baseAddress, string dataDirectory)
    {
        _process = process;
        BaseAddress = baseAddress;
        _dataDirectory = dataDirectory;
    }

    public Uri BaseAddress { get; }

    public static async Task<ServiceProcess> StartAsync(string modelDirectory, IReadOnlyDictionary<string, string> settings)
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var dataDirectory = Directory.CreateTempSubdirectory("diffusion-api-bench-").FullName;
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "DiffusionApi.dll"), "--urls", $"http://127.0.0.1:{port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Diffusion__DataDirectory"] = dataDirectory;
        start.Environment["Diffusion__Model__Path"] = modelDirectory;
        // Per-request log lines would measure the console, not the service.
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        foreach (var (key, value) in settings) start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;

        var process = new Process { StartInfo = start };
        var service = new ServiceProcess(process, new Uri($"http://127.0.0.1:{port}"), dataDirectory);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var client = new HttpClient { BaseAddress = service.BaseAddress };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"service exited:\n{service._output}");
            try
            {
                if ((await client.GetAsync("/health/ready")).IsSuccessStatusCode) return service;
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"service not ready:\n{service._output}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }
}
