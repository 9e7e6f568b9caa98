using System.CommandLine;
using DiffusionEngine.Imaging;
using DiffusionEngine.Models;
using DiffusionEngine.Pipelines;
using DiffusionEngine.Runtime;
using DiffusionEngine.Schedulers;
using Spectre.Console;

namespace DiffusionCli.Commands;

/// <summary>
/// <c>generate [--model DIR] --prompt TEXT [--negative-prompt TEXT] [--steps N] [--guidance G] [--width W] [--height H]
/// [--seed S] [--scheduler NAME] [--rng cpu|gpu] [--format png|jpeg|webp] [--provider auto|cpu|cuda] --out FILE</c>:
/// one image with a progress bar. Without --model the built-in tiny model is used. PNGs carry the A1111 infotext.
/// </summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { HelpName = "DIR", Description = "Model folder (diffusers/Optimum ONNX layout); default: the built-in tiny model" };
        var prompt = new Option<string>("--prompt") { HelpName = "TEXT", Description = "What to draw", Required = true };
        var negativePrompt = new Option<string>("--negative-prompt") { HelpName = "TEXT", Description = "What to steer away from", DefaultValueFactory = _ => "" };
        var steps = new Option<int>("--steps") { HelpName = "N", Description = "Denoising steps", DefaultValueFactory = _ => 20 };
        var guidance = new Option<float>("--guidance") { HelpName = "G", Description = "Classifier-free guidance scale (≤ 1 turns guidance off)", DefaultValueFactory = _ => 7.5f };
        var width = new Option<int>("--width") { HelpName = "W", Description = "Width in pixels, a multiple of 8", DefaultValueFactory = _ => 512 };
        var height = new Option<int>("--height") { HelpName = "H", Description = "Height in pixels, a multiple of 8", DefaultValueFactory = _ => 512 };
        var seed = new Option<ulong?>("--seed") { HelpName = "S", Description = "Noise seed; default: a random one (printed)" };
        var scheduler = new Option<string>("--scheduler") { HelpName = "NAME", Description = "Scheduler (e.g. euler_a, \"DPM++ 2M Karras\"); default: the model's own" };
        var rng = new Option<string>("--rng") { Description = "Noise generator: cpu (PyTorch CPU) or gpu (A1111 Philox)", DefaultValueFactory = _ => "cpu" };
        rng.AcceptOnlyFromAmong("cpu", "gpu");
        var format = new Option<string>("--format") { Description = "Image format: png, jpeg or webp", DefaultValueFactory = _ => "png" };
        format.AcceptOnlyFromAmong("png", "jpeg", "webp");
        var provider = new Option<string>("--provider") { Description = "Execution provider: auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
        provider.AcceptOnlyFromAmong(CliModel.ProviderNames);
        var output = new Option<FileInfo>("--out") { HelpName = "FILE", Description = "Where to write the image", Required = true };

        var command = new Command("generate", "Generate one image from a prompt")
        {
            model, prompt, negativePrompt, steps, guidance, width, height, seed, scheduler, rng, format, provider, output,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var request = new GenerationRequest
            {
                Prompt = parseResult.GetValue(prompt)!,
                NegativePrompt = parseResult.GetValue(negativePrompt) ?? "",
                Steps = parseResult.GetValue(steps),
                GuidanceScale = parseResult.GetValue(guidance),
                Width = parseResult.GetValue(width),
                Height = parseResult.GetValue(height),
                // A random seed below 2^32 stays usable in tools that take 32-bit seeds.
                Seed = parseResult.GetValue(seed) ?? (ulong)Random.Shared.NextInt64(0, uint.MaxValue),
                Scheduler = parseResult.GetValue(scheduler),
                Rng = parseResult.GetValue(rng) == "gpu" ? RngKind.Gpu : RngKind.Cpu,
            };
            var options = new PipelineOptions { ExecutionProvider = CliModel.ParseProvider(parseResult.GetValue(provider)) };
            return Task.FromResult(Run(parseResult.GetValue(model), request, options, parseResult.GetValue(format)!, parseResult.GetValue(output)!,
                parseResult.InvocationConfiguration.Error, cancellationToken));
        });
        return command;
    }

    private static int Run(DirectoryInfo? model, GenerationRequest request, PipelineOptions options, string formatName, FileInfo output, TextWriter errors, CancellationToken cancellationToken)
    {
        try
        {
            var format = ImageFormats.Parse(formatName);
            using var logging = new StderrLoggerFactory();
            using var pipeline = DiffusionPipeline.Load(CliModel.Resolve(model), options, logging);
            var image = AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask($"{pipeline.Model.Name} · {request.Width}x{request.Height}", maxValue: request.Steps);
                    // The schedule may have more UNet steps than requested (PNDM runs steps + 1), so the bar follows TotalSteps.
                    var progress = new InlineProgress<StepProgress>(step =>
                    {
                        task.MaxValue = step.TotalSteps;
                        task.Value = step.Step;
                    });
                    return pipeline.Generate([request], progress, cancellationToken)[0];
                });

            var sampler = SchedulerFactory.DisplayNameOf(request.Scheduler ?? pipeline.Model.DefaultScheduler);
            var parameters = InfoText.Format(request, sampler, pipeline.Model.Name);
            output.Directory?.Create();
            File.WriteAllBytes(output.FullName, ImageEncoder.Encode(image, format, parameters));
            AnsiConsole.MarkupLineInterpolated($"Wrote [green]{output.FullName}[/] (seed {request.Seed}, {sampler}, {pipeline.Model.ExecutionProvider})");
            return 0;
        }
        catch (Exception ex) when (ex is ModelLoadException or ArgumentException or ExecutionProviderUnavailableException)
        {
            errors.WriteLine($"error: {CliModel.ErrorMessage(ex)}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            errors.WriteLine("cancelled");
            return 130;
        }
    }
}
