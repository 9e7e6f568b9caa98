using System.CommandLine;
using DiffusionCli.Commands;

var root = new RootCommand("diffusion: Stable Diffusion on ONNX Runtime")
{
    TokenizeCommand.Create(),
    GenerateCommand.Create(),
    BenchCommand.Create(),
    CreateTinyModelCommand.Create(),
};
return root.Parse(args).Invoke();
