using System.CommandLine;
using DiffusionCli.Commands;

var root = new RootCommand("diffusion: Stable Diffusion on ONNX Runtime")
{
    CreateTinyModelCommand.Create(),
};
return root.Parse(args).Invoke();
