using System.CommandLine;
using DiffusionCli.Commands;

var root = new RootCommand("diffusion: Stable Diffusion on ONNX Runtime")
{
    TokenizeCommand.Create(),
    CreateTinyModelCommand.Create(),
    NoiseCommand.Create(),
    GenerateCommand.Create(),
    BenchCommand.Create(),
};
return root.Parse(args).Invoke();
