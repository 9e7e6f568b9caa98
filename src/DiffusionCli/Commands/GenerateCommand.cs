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
/// [--seed S] [--scheduler NAME] [--rng cpu|gpu] [--init-image FILE [--strength S]] [--mask FILE [--mask-blur PX]]
/// [--mask-convention luminance|transparency] [--no-paste-back] [--syntax a1111|plain] [--max-chunks N]
/// [--emphasis original|no_norm|ignore|comfy] [--clip-skip N] [--format png|jpeg|webp] [--provider auto|cpu|cuda] --out FILE</c>:
/// one image with a progress bar. Without --model the built-in tiny model is used. Steps, guidance and size left out
/// take the model's own defaults (<see cref="ModelInfo.Defaults"/>); with an init image the size defaults to the
/// image's, rounded down to a multiple of 8. PNGs carry the A1111 infotext.
/// </summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { HelpName = "DIR", Description = "Model folder (diffusers/Optimum ONNX layout); default: the built-in tiny model" };
        var prompt = new Option<string>("--prompt") { HelpName = "TEXT", Description = "What to draw", Required = true };
        var negativePrompt = new Option<string>("--negative-prompt") { HelpName = "TEXT", Description = "What to steer away from", DefaultValueFactory = _ => "" };
        var steps = new Option<int?>("--steps") { HelpName = "N", Description = "Denoising steps; default: the model's (20 for SD, 4 for LCM, 1 for Turbo)" };
        var guidance = new Option<float?>("--guidance") { HelpName = "G", Description = "Classifier-free guidance scale (≤ 1 turns guidance off); default: the model's" };
        var width = new Option<int?>("--width") { HelpName = "W", Description = "Width in pixels, a multiple of 8; default: the init image's, else the model's native size" };
        var height = new Option<int?>("--height") { HelpName = "H", Description = "Height in pixels, a multiple of 8; default: as --width" };
        var seed = new Option<ulong?>("--seed") { HelpName = "S", Description = "Noise seed; default: a random one (printed)" };
        var scheduler = new Option<string>("--scheduler") { HelpName = "NAME", Description = "Scheduler (e.g. euler_a, \"DPM++ 2M Karras\"); default: the model's own" };
        var rng = new Option<string>("--rng") { Description = "Noise generator: cpu (PyTorch CPU) or gpu (A1111 Philox)", DefaultValueFactory = _ => "cpu" };
        rng.AcceptOnlyFromAmong("cpu", "gpu");
        var initImage = new Option<FileInfo>("--init-image") { HelpName = "FILE", Description = "PNG, JPEG or WebP to start from (image-to-image; with --mask, inpainting); its alpha is dropped" };
        var strength = new Option<double?>("--strength") { HelpName = "S", Description = "How much of the init image to repaint, in (0, 1]; default 0.8 (image-to-image), 1 (inpainting)" };
        var mask = new Option<FileInfo>("--mask") { HelpName = "FILE", Description = "Inpainting mask, the init image's size: white repaints, black keeps" };
        var maskConvention = new Option<string>("--mask-convention")
        {
            Description = "luminance (white repaints) or transparency (fully transparent pixels of the mask, or without --mask of the init image, repaint: OpenAI's edits)",
            DefaultValueFactory = _ => "luminance",
        };
        maskConvention.AcceptOnlyFromAmong("luminance", "transparency");
        var maskBlur = new Option<int>("--mask-blur") { HelpName = "PX", Description = "Gaussian blur of the mask (standard deviation in pixels); default 0" };
        var noPasteBack = new Option<bool>("--no-paste-back") { Description = "Keep the model's output everywhere instead of pasting the kept pixels back" };
        var format = new Option<string>("--format") { Description = "Image format: png, jpeg or webp", DefaultValueFactory = _ => "png" };
        format.AcceptOnlyFromAmong("png", "jpeg", "webp");
        var provider = new Option<string>("--provider") { Description = "Execution provider: auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
        provider.AcceptOnlyFromAmong(CliModel.ProviderNames);
        var output = new Option<FileInfo>("--out") { HelpName = "FILE", Description = "Where to write the image", Required = true };
        var prompts = new PromptOptions();

        var command = new Command("generate", "Generate one image from a prompt (and optionally an init image and a mask)")
        {
            model, prompt, negativePrompt, steps, guidance, width, height, seed, scheduler, rng, initImage, strength, mask, maskConvention, maskBlur,
            noPasteBack, format, provider, output,
        };
        foreach (var option in prompts.ForGeneration) command.Options.Add(option);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var options = new GenerateOptions(
                parseResult.GetValue(prompt)!,
                parseResult.GetValue(negativePrompt) ?? "",
                parseResult.GetValue(steps),
                parseResult.GetValue(guidance),
                parseResult.GetValue(width),
                parseResult.GetValue(height),
                // A random seed below 2^32 stays usable in tools that take 32-bit seeds.
                parseResult.GetValue(seed) ?? (ulong)Random.Shared.NextInt64(0, uint.MaxValue),
                parseResult.GetValue(scheduler),
                parseResult.GetValue(rng) == "gpu" ? RngKind.Gpu : RngKind.Cpu,
                parseResult.GetValue(initImage),
                parseResult.GetValue(strength),
                parseResult.GetValue(mask),
                parseResult.GetValue(maskConvention) == "transparency" ? MaskConvention.Transparency : MaskConvention.Luminance,
                parseResult.GetValue(maskBlur),
                !parseResult.GetValue(noPasteBack),
                request => prompts.Apply(request, parseResult));
            var pipelineOptions = new PipelineOptions
            {
                ExecutionProvider = CliModel.ParseProvider(parseResult.GetValue(provider)),
                MaxPromptChunks = parseResult.GetValue(prompts.MaxChunks),
            };
            return Task.FromResult(Run(parseResult.GetValue(model), options, pipelineOptions, parseResult.GetValue(format)!, parseResult.GetValue(output)!,
                parseResult.InvocationConfiguration.Error, cancellationToken));
        });
        return command;
    }

    private static int Run(DirectoryInfo? model, GenerateOptions options, PipelineOptions pipelineOptions, string formatName, FileInfo output, TextWriter errors,
        CancellationToken cancellationToken)
    {
        try
        {
            var format = ImageFormats.Parse(formatName);
            var initImage = options.InitImage is null ? null : DecodeFile(options.InitImage, "--init-image");
            var mask = options.Mask is null ? null : DecodeFile(options.Mask, "--mask");
            using var logging = new StderrLoggerFactory();
            using var pipeline = DiffusionPipeline.Load(CliModel.Resolve(model), pipelineOptions, logging);
            var request = options.ToRequest(pipeline.Model.Defaults, initImage, mask);
            var image = AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask($"{pipeline.Model.Name} · {request.Width}x{request.Height}", maxValue: request.Steps);
                    // The schedule may have more UNet steps than requested (PNDM runs steps + 1), or fewer (strength < 1),
                    // so the bar follows TotalSteps.
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
            AnsiConsole.MarkupLineInterpolated(
                $"Wrote [green]{output.FullName}[/] ({request.Mode.Id()}, seed {request.Seed}, {sampler}, {pipeline.Model.Kind.Id()}, {pipeline.Model.ExecutionProvider})");
            return 0;
        }
        catch (Exception ex) when (ex is ModelLoadException or ArgumentException or ExecutionProviderUnavailableException or IOException or NonFiniteImageException)
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

    private static RgbaImage DecodeFile(FileInfo file, string option)
    {
        if (!file.Exists) throw new IOException($"{option} {file.FullName}: the file does not exist");
        try
        {
            return ImageDecoder.Decode(File.ReadAllBytes(file.FullName));
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"{option} {file.FullName}: {CliModel.ErrorMessage(ex)}", ex);
        }
    }

    /// <summary>What the user asked for; unset values are filled from the model's defaults once it is loaded.</summary>
    private sealed record GenerateOptions(string Prompt, string NegativePrompt, int? Steps, float? Guidance, int? Width, int? Height, ulong Seed,
        string? Scheduler, RngKind Rng, FileInfo? InitImage, double? Strength, FileInfo? Mask, MaskConvention MaskConvention, int MaskBlur, bool PasteBack,
        Func<GenerationRequest, GenerationRequest> ReadPrompts)
    {
        public GenerationRequest ToRequest(ModelDefaults defaults, RgbaImage? initImage, RgbaImage? mask)
        {
            // With an init image, its size rounded down to a multiple of 8 (as diffusers' image processor does).
            var (defaultWidth, defaultHeight) = initImage is null ? (defaults.Width, defaults.Height) : (initImage.Width / 8 * 8, initImage.Height / 8 * 8);
            return ReadPrompts(new GenerationRequest
            {
                Prompt = Prompt,
                NegativePrompt = NegativePrompt,
                Steps = Steps ?? defaults.Steps,
                GuidanceScale = Guidance ?? defaults.GuidanceScale,
                Width = Width ?? defaultWidth,
                Height = Height ?? defaultHeight,
                Seed = Seed,
                Scheduler = Scheduler,
                Rng = Rng,
                InitImage = initImage,
                Mask = mask,
                MaskConvention = MaskConvention,
                Strength = Strength,
                MaskBlur = MaskBlur,
                PasteBack = PasteBack,
            });
        }
    }
}
