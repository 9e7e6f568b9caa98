using System.CommandLine;
using DiffusionCli.Commands;

var root = new RootCommand("diffusion: Stable Diffusion on ONNX Runtime")
{
    GenerateCommand.Create(),
    InspectCommand.Create(),
    TokenizeCommand.Create(),
    CreateTinyModelCommand.Create(),
    NoiseCommand.Create(),
    BenchCommand.Create(),
    OptimizeCommand.Create(),
    BenchUNetCommand.Create(),
    BenchGemmCommand.Create(),
    CompareImagesCommand.Create(),
};
return root.Parse(args).Invoke();
