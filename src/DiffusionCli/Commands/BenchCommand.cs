using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DiffusionEngine.Imaging;
using DiffusionEngine.Models;
using DiffusionEngine.Noise;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;
using DiffusionEngine.Text.Prompts;
using Spectre.Console;

namespace DiffusionCli.Commands;

/// <summary>
/// <c>bench [--model DIR] [--provider auto|cpu|cuda] [--size 256] [--steps 20] [--batch 1,4] [--iterations N]
/// [--mode txt2img|img2img|inpaint] [--strength S] [--prompt TEXT] [--negative-prompt TEXT] [--syntax a1111|plain]
/// [--max-chunks N] [--emphasis MODE] [--clip-skip N]</c>: images/s and the engine-overhead ratio (pipeline wall time /
/// time inside ONNX Runtime Run calls) per batch size, for the model's own pipeline in the chosen mode (img2img and
/// inpaint start from a generated gradient image, inpaint repaints its left half; besides the total ratio, the median of
/// the per-generation ratios, robust to preemption on a shared machine), then the cost of drawing a 4×128×128
/// noise latent against one 20-step generation at 1024×1024. Prints Markdown tables for BENCHMARKS.md.
/// </summary>
public static class BenchCommand
{
    private const int NoiseLatentSize = 128;
    private const int NoiseRepeats = 20;

    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { HelpName = "DIR", Description = "Model folder; default: the built-in tiny model" };
        var provider = new Option<string>("--provider") { Description = "Execution provider: auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
        provider.AcceptOnlyFromAmong(CliModel.ProviderNames);
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0 = ORT default)", DefaultValueFactory = _ => 0 };
        var size = new Option<int>("--size") { Description = "Image width and height in pixels", DefaultValueFactory = _ => 256 };
        var steps = new Option<int>("--steps") { Description = "Denoising steps", DefaultValueFactory = _ => 20 };
        var batches = new Option<string>("--batch") { Description = "Comma-separated batch sizes", DefaultValueFactory = _ => "1,4" };
        var iterations = new Option<int>("--iterations") { Description = "Timed generations per batch size (after one warm-up)", DefaultValueFactory = _ => 3 };
        var cudaGraph = new Option<bool>("--cuda-graph") { Description = "CUDA graphs with the UNet's buffers in device memory (CUDA only)" };
        var memoryPattern = new Option<bool>("--memory-pattern") { Description = "Enable ONNX Runtime's memory-pattern planning (off by default)" };
        var skipNoise = new Option<bool>("--skip-noise") { Description = "Skip the noise-cost figure (its 1024×1024 generation is slow on CPU with real models)" };
        var mode = new Option<string>("--mode") { Description = "txt2img, img2img or inpaint", DefaultValueFactory = _ => "txt2img" };
        mode.AcceptOnlyFromAmong("txt2img", "img2img", "inpaint");
        var strength = new Option<double?>("--strength") { Description = "Strength for img2img/inpaint; default: the mode's (0.8, 1)" };
        var guidance = new Option<float?>("--guidance") { Description = "Guidance scale; default: the model's" };
        var prompt = new Option<string?>("--prompt") { HelpName = "TEXT", Description = "The prompt of every image; default: a short one per image" };
        var negativePrompt = new Option<string>("--negative-prompt") { HelpName = "TEXT", Description = "The negative prompt of every image", DefaultValueFactory = _ => "" };
        var prompts = new PromptOptions();

        var command = new Command("bench", "Measure images/s, engine overhead and noise cost")
        {
            model, provider, threads, size, steps, batches, iterations, cudaGraph, memoryPattern, skipNoise, mode, strength, guidance, prompt, negativePrompt,
        };
        foreach (var option in prompts.ForGeneration) command.Options.Add(option);
        command.SetAction((parseResult, cancellationToken) =>
        {
            try
            {
                var options = new PipelineOptions
                {
                    ExecutionProvider = CliModel.ParseProvider(parseResult.GetValue(provider)),
                    IntraOpThreads = parseResult.GetValue(threads),
                    MaxPromptChunks = parseResult.GetValue(prompts.MaxChunks),
                    Cuda = new CudaSettings { CudaGraph = parseResult.GetValue(cudaGraph) },
                    Session = new SessionTuning { MemoryPattern = parseResult.GetValue(memoryPattern) },
                };
                using var logging = new StderrLoggerFactory();
                using var pipeline = DiffusionPipeline.Load(CliModel.Resolve(parseResult.GetValue(model)), options, logging);
                var workload = new Workload(GenerationModes.TryParse(parseResult.GetValue(mode), out var chosen) ? chosen : GenerationMode.TextToImage,
                    parseResult.GetValue(size), parseResult.GetValue(steps), parseResult.GetValue(strength), parseResult.GetValue(guidance) ?? pipeline.Model.Defaults.GuidanceScale,
                    parseResult.GetValue(prompt), parseResult.GetValue(negativePrompt) ?? "", request => prompts.Apply(request, parseResult));
                Console.WriteLine($"model {pipeline.Model.Name} ({pipeline.Model.Kind.Id()}) on {pipeline.Model.ExecutionProvider}, scheduler {pipeline.Model.DefaultScheduler}, " +
                    $"{workload.Mode.Id()}, guidance {workload.Guidance}{(workload.Strength is { } s ? $", strength {s}" : "")}");
                var first = workload.Batch(1)[0];
                Console.WriteLine($"prompt: {pipeline.Model.Prompts!.Read(first.Prompt, first.PromptSyntax).TokenCount} tokens in " +
                    $"{pipeline.BatchKeyFor(first).PromptChunks} chunk(s), {PromptSyntaxNames.NameOf(first.PromptSyntax)} syntax, " +
                    $"emphasis {EmphasisModeNames.NameOf(first.Emphasis)}, clip skip {first.ClipSkip}");
                BenchThroughput(pipeline, workload, ParseBatches(parseResult.GetValue(batches)!), parseResult.GetValue(iterations), cancellationToken);
                if (!parseResult.GetValue(skipNoise)) BenchNoise(pipeline, workload, cancellationToken);
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is ModelLoadException or ArgumentException or ExecutionProviderUnavailableException)
            {
                Console.Error.WriteLine($"error: {CliModel.ErrorMessage(ex)}");
                return Task.FromResult(1);
            }
        });
        return command;
    }

    private static void BenchThroughput(DiffusionPipeline pipeline, Workload workload, int[] batchSizes, int iterations, CancellationToken cancellationToken)
    {
        var (size, steps) = (workload.Size, workload.Steps);
        Console.WriteLine();
        Console.WriteLine($"| batch | size | steps | images/s | s/image | wall s | ORT Run s | overhead ratio | median ratio | managed KiB/generation | GCs gen0/1/2 |");
        Console.WriteLine($"|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var batchSize in batchSizes)
        {
            var batch = workload.Batch(batchSize);
            pipeline.Generate(batch, cancellationToken: cancellationToken); // warm-up: ORT allocates its arenas on the first runs
            pipeline.RunTimer.Reset();
            // Managed allocations of the generating thread (Generate runs on it) and the collections they cause.
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            int[] collectionsBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
            // Per generation too: on a shared machine a preemption outside ORT lands in one generation's overhead, and the
            // median of the per-generation ratios is robust to it where the total ratio is not.
            var ratios = new double[iterations];
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < iterations; i++)
            {
                var (generationStart, ortBefore) = (Stopwatch.GetTimestamp(), pipeline.RunTimer.Elapsed);
                pipeline.Generate(batch, cancellationToken: cancellationToken);
                ratios[i] = Stopwatch.GetElapsedTime(generationStart) / (pipeline.RunTimer.Elapsed - ortBefore);
            }
            var wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
            Array.Sort(ratios);
            var median = iterations % 2 == 1 ? ratios[iterations / 2] : (ratios[iterations / 2 - 1] + ratios[iterations / 2]) / 2;
            var allocatedKib = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / 1024.0 / iterations;
            var collections = $"{GC.CollectionCount(0) - collectionsBefore[0]}/{GC.CollectionCount(1) - collectionsBefore[1]}/{GC.CollectionCount(2) - collectionsBefore[2]}";
            var ort = pipeline.RunTimer.Elapsed.TotalSeconds;
            var images = batchSize * iterations;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {batchSize} | {size}×{size} | {steps} | {images / wall:F2} | {wall / images:F3} | {wall:F2} | {ort:F2} | {wall / ort:F4} | {median:F4} | {allocatedKib:F0} | {collections} |"));
        }
    }

    private static void BenchNoise(DiffusionPipeline pipeline, Workload workload, CancellationToken cancellationToken)
    {
        var size = NoiseLatentSize * 8;
        var steps = workload.Steps;
        var latent = new float[4 * NoiseLatentSize * NoiseLatentSize];
        var noise = new Dictionary<RngKind, double>();
        foreach (var kind in new[] { RngKind.Cpu, RngKind.Gpu })
        {
            NoiseSources.Create(kind, 0).Fill(latent); // warm-up (JIT)
            var start = Stopwatch.GetTimestamp();
            for (var seed = 1UL; seed <= NoiseRepeats; seed++) NoiseSources.Create(kind, seed).Fill(latent);
            noise[kind] = Stopwatch.GetElapsedTime(start).TotalMilliseconds / NoiseRepeats;
        }

        // No warm-up at this size: one tiny-model generation at 1024×1024 takes minutes on a small CPU, and a cold run
        // only makes the denominator larger by ORT's first-run allocations (a few percent).
        var request = (workload with { Size = size }).Batch(1);
        var generationStart = Stopwatch.GetTimestamp();
        pipeline.Generate(request, cancellationToken: cancellationToken);
        var generation = Stopwatch.GetElapsedTime(generationStart).TotalMilliseconds;

        Console.WriteLine();
        Console.WriteLine($"| rng | noise 4×{NoiseLatentSize}×{NoiseLatentSize} ms | {steps}-step generation {size}×{size} ms | noise share |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (kind, milliseconds) in noise)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {kind.ToString().ToLowerInvariant()} | {milliseconds:F2} | {generation:F0} | {100 * milliseconds / generation:F3} % |"));
        }
    }

    /// <summary>
    /// What every timed generation runs: the mode, size, steps, strength, guidance and prompts (with how they are read), with
    /// a deterministic init image and mask.
    /// </summary>
    private sealed record Workload(GenerationMode Mode, int Size, int Steps, double? Strength, float Guidance, string? Prompt, string NegativePrompt,
        Func<GenerationRequest, GenerationRequest> ReadPrompts)
    {
        public GenerationRequest[] Batch(int batchSize)
        {
            var image = Mode == GenerationMode.TextToImage ? null : Gradient(Size);
            var mask = Mode == GenerationMode.Inpaint ? LeftHalf(Size) : null;
            var batch = new GenerationRequest[batchSize];
            for (var i = 0; i < batchSize; i++)
            {
                batch[i] = ReadPrompts(new GenerationRequest
                {
                    Prompt = Prompt ?? $"a watercolor painting of a lighthouse at dusk, variation {i}",
                    NegativePrompt = NegativePrompt,
                    Width = Size,
                    Height = Size,
                    Steps = Steps,
                    GuidanceScale = Guidance,
                    Seed = 1000UL + (ulong)i,
                    InitImage = image,
                    Mask = mask,
                    Strength = image is null ? null : Strength,
                });
            }
            return batch;
        }

        private static RgbaImage Gradient(int size)
        {
            var pixels = new byte[size * size * 4];
            for (var p = 0; p < size * size; p++)
            {
                pixels[4 * p] = (byte)(p % size * 255 / size);
                pixels[4 * p + 1] = (byte)(p / size * 255 / size);
                pixels[4 * p + 2] = 128;
                pixels[4 * p + 3] = 255;
            }
            return new RgbaImage(size, size, pixels);
        }

        private static RgbaImage LeftHalf(int size)
        {
            var pixels = new byte[size * size * 4];
            for (var p = 0; p < size * size; p++)
            {
                pixels[4 * p] = pixels[4 * p + 1] = pixels[4 * p + 2] = p % size < size / 2 ? (byte)255 : (byte)0;
                pixels[4 * p + 3] = 255;
            }
            return new RgbaImage(size, size, pixels);
        }
    }

    private static int[] ParseBatches(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 1)
                throw new ArgumentException($"batch sizes must be positive integers but got '{parts[i]}'");
        }
        return sizes;
    }
}
