using System.Runtime.InteropServices;

namespace DiffusionEngine.Runtime;

/// <summary>
/// Says which library keeps ONNX Runtime's CUDA provider from loading. ORT's exception only says "Failed to load
/// shared library"; loading the provider library ourselves makes the dynamic loader name the missing dependency
/// (e.g. "libcublasLt.so.13: cannot open shared object file").
/// </summary>
internal static class CudaLoadDiagnostics
{
    public static string Describe(string ortMessage)
    {
        var fileName = OperatingSystem.IsWindows() ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";
        var path = FindProviderLibrary(fileName);
        if (path is null) return $"{fileName} is not installed beside ONNX Runtime ({ortMessage})";
        try
        {
            var handle = NativeLibrary.Load(path);
            NativeLibrary.Free(handle);
            return ortMessage; // the library itself loads: ORT's own reason is the best there is
        }
        catch (DllNotFoundException ex)
        {
            return $"{fileName} could not be loaded: {LoaderReason(ex.Message)}";
        }
    }

    private static string? FindProviderLibrary(string fileName)
    {
        var rid = RuntimeInformation.RuntimeIdentifier;
        var architecture = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        string[] candidates =
        [
            Path.Combine(AppContext.BaseDirectory, fileName),
            Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native", fileName),
            Path.Combine(AppContext.BaseDirectory, "runtimes", $"{os}-{architecture}", "native", fileName),
        ];
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>The loader's own words: .NET puts dlerror()'s text on the last line of its message.</summary>
    private static string LoaderReason(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? message : lines[^1];
    }
}
