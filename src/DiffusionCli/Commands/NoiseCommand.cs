using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;
using DiffusionEngine.Noise;
using DiffusionEngine.Pipelines;

namespace DiffusionCli.Commands;

/// <summary>
/// <c>noise --rng cpu|gpu --seed S --shape 4,64,64</c>: draws the initial noise a seed gives and prints one JSON object
/// <c>{"first":[…16 values],"last":[…8 values],"fnv1a64":"…"}</c> (the hash of the float32 little-endian bytes), so a
/// latent can be compared with PyTorch / A1111 output without writing it out.
/// </summary>
public static class NoiseCommand
{
    private const int FirstCount = 16;
    private const int LastCount = 8;
    private const long MaxElements = 1L << 28;

    public static Command Create()
    {
        var rng = new Option<string>("--rng")
        {
            Description = "Noise source: cpu (PyTorch CPU generator, diffusers/ComfyUI) or gpu (A1111 Philox \"NV\")",
            DefaultValueFactory = _ => "cpu",
        };
        rng.AcceptOnlyFromAmong("cpu", "gpu");

        var seed = new Option<ulong>("--seed")
        {
            Description = "64-bit unsigned seed",
            Required = true,
        };

        var shape = new Option<TensorShape>("--shape")
        {
            Description = "Comma-separated tensor shape, e.g. 4,64,64 for a 512x512 SD latent",
            Arity = ArgumentArity.ExactlyOne,
            DefaultValueFactory = _ => new TensorShape([4, 64, 64]),
            CustomParser = ParseShape,
        };

        var command = new Command("noise", "Print the first and last values and the FNV-1a-64 hash of a seed's noise")
        {
            rng, seed, shape,
        };
        command.SetAction(parseResult =>
        {
            var kind = parseResult.GetValue(rng) == "gpu" ? RngKind.Gpu : RngKind.Cpu;
            var values = new float[parseResult.GetValue(shape)!.ElementCount];
            NoiseSources.Create(kind, parseResult.GetValue(seed)).Fill(values);
            parseResult.InvocationConfiguration.Output.WriteLine(FormatSummary(values));
            return 0;
        });
        return command;
    }

    /// <summary>The command's JSON line for <paramref name="values"/>; floats in shortest round-trip form.</summary>
    public static string FormatSummary(ReadOnlySpan<float> values)
    {
        var json = new StringBuilder(512);
        json.Append("{\"first\":");
        AppendArray(json, values[..Math.Min(FirstCount, values.Length)]);
        json.Append(",\"last\":");
        AppendArray(json, values[Math.Max(0, values.Length - LastCount)..]);
        json.Append(",\"fnv1a64\":\"")
            .Append(Fnv1a64.Hash(values).ToString(CultureInfo.InvariantCulture))
            .Append("\"}");
        return json.ToString();
    }

    private static void AppendArray(StringBuilder json, ReadOnlySpan<float> values)
    {
        json.Append('[');
        for (var i = 0; i < values.Length; i++)
        {
            if (i > 0) json.Append(',');
            json.Append(values[i].ToString("R", CultureInfo.InvariantCulture));
        }

        json.Append(']');
    }

    private static TensorShape? ParseShape(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var dimensions = new int[parts.Length];
        long count = 1;
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dimensions[i]) || dimensions[i] <= 0)
            {
                result.AddError($"--shape must be comma-separated positive integers like 4,64,64 but was '{text}'");
                return null;
            }

            count *= dimensions[i];
            if (count > MaxElements)
            {
                result.AddError($"--shape must have at most {MaxElements} elements but '{text}' has more");
                return null;
            }
        }

        return new TensorShape(dimensions);
    }

    // Printed as "4,64,64" (the form --shape takes) in help's default.
    private sealed record TensorShape(int[] Dimensions)
    {
        public long ElementCount
        {
            get
            {
                long count = 1;
                foreach (var dimension in Dimensions) count *= dimension;
                return count;
            }
        }

        public override string ToString() => string.Join(',', Dimensions);
    }
}
