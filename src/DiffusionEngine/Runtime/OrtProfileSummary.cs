using System.Text.Json;

namespace DiffusionEngine.Runtime;

/// <summary>One operator type's share of a profiled call.</summary>
/// <param name="OpType">The node's op type as ONNX Runtime ran it (after its own graph rewrites: FusedConv, NCHWc Conv, ReorderInput…).</param>
/// <param name="Nodes">Distinct nodes of this type that ran.</param>
/// <param name="MicrosecondsPerCall">Summed kernel time of those nodes per counted call.</param>
/// <param name="Share">Fraction of all kernel time per call.</param>
/// <param name="FlopsPerCall">Floating-point operations per call from the recorded shapes (Conv, MatMul, Gemm, attention); null for other types.</param>
/// <param name="FastestMicrosecondsPerCall">
/// Sum over the nodes of each node's fastest counted run: on a shared machine, where other work preempts some kernels
/// in some calls, this is the load-robust figure (the noise only ever adds time).
/// </param>
public sealed record OpTypeProfile(string OpType, int Nodes, double MicrosecondsPerCall, double Share, double? FlopsPerCall,
    double FastestMicrosecondsPerCall)
{
    /// <summary>Achieved rate in GFLOP/s (mean over the counted calls), where the FLOPs are known.</summary>
    public double? GflopsPerSecond => FlopsPerCall is { } flops && MicrosecondsPerCall > 0 ? flops / (MicrosecondsPerCall * 1e3) : null;

    /// <summary>Rate in GFLOP/s with every node at its fastest run, where the FLOPs are known.</summary>
    public double? FastestGflopsPerSecond =>
        FlopsPerCall is { } flops && FastestMicrosecondsPerCall > 0 ? flops / (FastestMicrosecondsPerCall * 1e3) : null;
}

/// <summary>
/// Time per operator type in an ONNX Runtime profile (the JSON trace <c>SessionOptions.EnableProfiling</c> writes):
/// the kernel events ("Node" category, <c>…_kernel_time</c>) are summed per <c>args.op_name</c>, leaving out those of the
/// first <c>model_run</c>s (the warm-up call, where ORT prepacks weights and fills its arena); each node's fastest run is
/// kept too. FLOPs come from each event's
/// <c>args.input_type_shape</c>/<c>output_type_shape</c>: 2·(output elements)·(reduction length) for Conv and matrix
/// products, 2·B·Sq·Skv·(Dqk + Dv) for MultiHeadAttention.
/// </summary>
/// <param name="CallsCounted">model_run events whose kernels were summed.</param>
/// <param name="CallsSkipped">Leading model_run events left out.</param>
/// <param name="RunMicrosecondsPerCall">Mean model_run duration of the counted calls (kernels plus ORT's own work between them).</param>
/// <param name="KernelMicrosecondsPerCall">Summed kernel time per counted call.</param>
/// <param name="OpTypes">Per op type, largest time first.</param>
public sealed record OrtProfileSummary(int CallsCounted, int CallsSkipped, double RunMicrosecondsPerCall, double KernelMicrosecondsPerCall,
    IReadOnlyList<OpTypeProfile> OpTypes)
{
    /// <summary>
    /// Summarises the profile at <paramref name="path"/>, leaving out the first <paramref name="skipCalls"/> calls
    /// (fewer when the profile holds no more than that: at least one call is always counted).
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not an ONNX Runtime profile or records no call.</exception>
    public static OrtProfileSummary Read(string path, int skipCalls = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skipCalls);
        using var stream = File.OpenRead(path);
        using var document = ParseTrace(stream, path);
        var events = document.RootElement;

        var runs = new List<(double Start, double Duration)>();
        foreach (var e in events.EnumerateArray())
        {
            if (Text(e, "cat") == "Session" && Text(e, "name") == "model_run") runs.Add((Number(e, "ts"), Number(e, "dur")));
        }
        if (runs.Count == 0) throw new InvalidDataException($"{path}: the profile records no model_run (was the session run after profiling was enabled?)");
        runs.Sort();
        var skipped = Math.Min(skipCalls, runs.Count - 1);
        var countFrom = skipped == 0 ? double.MinValue : runs[skipped - 1].Start + runs[skipped - 1].Duration;
        var counted = runs.Count - skipped;

        var totals = new Dictionary<string, (Dictionary<string, double> Fastest, double Microseconds, double Flops, bool HasFlops)>(StringComparer.Ordinal);
        double kernelTotal = 0;
        foreach (var e in events.EnumerateArray())
        {
            if (Text(e, "cat") != "Node" || Text(e, "name") is not { } name || !name.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
            if (Number(e, "ts") < countFrom || !e.TryGetProperty("args", out var args)) continue;
            var opType = Text(args, "op_name") ?? "?";
            var duration = Number(e, "dur");
            var flops = Flops(opType, Shapes(args, "input_type_shape"), Shapes(args, "output_type_shape"));
            var entry = totals.TryGetValue(opType, out var found) ? found : (new Dictionary<string, double>(StringComparer.Ordinal), 0, 0, false);
            entry.Fastest[name] = entry.Fastest.TryGetValue(name, out var fastest) ? Math.Min(fastest, duration) : duration;
            totals[opType] = (entry.Fastest, entry.Microseconds + duration, entry.Flops + (flops ?? 0), entry.HasFlops || flops is not null);
            kernelTotal += duration;
        }

        var opTypes = totals
            .Select(t => new OpTypeProfile(t.Key, t.Value.Fastest.Count, t.Value.Microseconds / counted,
                kernelTotal > 0 ? t.Value.Microseconds / kernelTotal : 0, t.Value.HasFlops ? t.Value.Flops / counted : null,
                t.Value.Fastest.Values.Sum()))
            .OrderByDescending(o => o.MicrosecondsPerCall)
            .ThenBy(o => o.OpType, StringComparer.Ordinal)
            .ToList();
        var runMicroseconds = runs.Skip(skipped).Sum(r => r.Duration) / counted;
        return new OrtProfileSummary(counted, skipped, runMicroseconds, kernelTotal / counted, opTypes);
    }

    /// <summary>
    /// FLOPs of one node from its input and output shapes, or null where the op type has no formula here (or a shape
    /// is missing). ORT leaves out the shapes of weights it prepacked (MatMul's and Gemm's B), so matrix products use
    /// only A and the output. Conv weights are [M, C/group, k…] (NCHWc-blocked weights keep that logical layout, padded channels
    /// included); FusedMatMul/Gemm may transpose A, so the reduction length is the dimension of A that is not the output's rows.
    /// </summary>
    internal static double? Flops(string opType, IReadOnlyList<long[]> inputs, IReadOnlyList<long[]> outputs)
    {
        if (outputs.Count == 0) return null;
        var output = outputs[0];
        switch (opType)
        {
            case "Conv" or "FusedConv" when inputs.Count >= 2 && inputs[1].Length >= 3 && inputs[1][0] > 0:
                return 2.0 * Elements(output) * (Elements(inputs[1]) / inputs[1][0]);
            case "MatMul" when inputs.Count >= 1 && inputs[0].Length >= 1:
                return 2.0 * Elements(output) * inputs[0][^1];
            case "FusedMatMul" or "Gemm" when inputs.Count >= 1 && inputs[0].Length >= 2 && output.Length >= 2:
                {
                    var a = inputs[0];
                    var reduction = a[^2] == output[^2] ? a[^1] : a[^2];
                    return 2.0 * Elements(output) * reduction;
                }
            case "MultiHeadAttention" when inputs.Count >= 3 && inputs[0].Length == 3:
                {
                    // query [B, Sq, D]; key/value [B, Skv, D] or already split into heads [B, N, Skv, H].
                    var (batch, querySequence) = (inputs[0][0], inputs[0][1]);
                    var (keySequence, keyWidth) = SequenceAndWidth(inputs[1]);
                    var (_, valueWidth) = SequenceAndWidth(inputs[2]);
                    if (keySequence <= 0) return null;
                    return 2.0 * batch * querySequence * keySequence * (keyWidth + valueWidth);
                }
            default:
                return null;
        }
    }

    private static (long Sequence, long Width) SequenceAndWidth(long[] shape) => shape.Length switch
    {
        3 => (shape[1], shape[2]),
        4 => (shape[2], shape[1] * shape[3]),
        _ => (0, 0),
    };

    private static double Elements(long[] shape)
    {
        double product = 1;
        foreach (var d in shape) product *= d;
        return product;
    }

    private static JsonDocument ParseTrace(Stream stream, string path)
    {
        try
        {
            var document = JsonDocument.Parse(stream);
            if (document.RootElement.ValueKind == JsonValueKind.Array) return document;
            document.Dispose();
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not an ONNX Runtime profile (JSON array of trace events): {ex.Message}", ex);
        }
        throw new InvalidDataException($"{path}: not an ONNX Runtime profile (JSON array of trace events)");
    }

    /// <summary>ORT writes each shape as an object with one property, its element type: [{"float":[2,4,64,64]}, …].</summary>
    private static List<long[]> Shapes(JsonElement args, string property)
    {
        var shapes = new List<long[]>();
        if (!args.TryGetProperty(property, out var list) || list.ValueKind != JsonValueKind.Array) return shapes;
        foreach (var typed in list.EnumerateArray())
        {
            if (typed.ValueKind != JsonValueKind.Object) continue;
            foreach (var dims in typed.EnumerateObject())
            {
                if (dims.Value.ValueKind != JsonValueKind.Array) continue;
                shapes.Add(dims.Value.EnumerateArray().Select(d => d.TryGetInt64(out var v) ? v : 0).ToArray());
            }
        }
        return shapes;
    }

    private static string? Text(JsonElement e, string property) =>
        e.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static double Number(JsonElement e, string property) =>
        e.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : 0;
}
