using System.CommandLine;
using System.Text.Json;
using DiffusionEngine.Models;
using DiffusionEngine.Text;

namespace DiffusionCli.Commands;

/// <summary>
/// <c>tokenize (--tokenizer DIR | --model DIR) TEXT</c>: prints the prompt's CLIP token ids as one JSON object,
/// <c>{"ids":[…],"count":N,"truncated":false}</c>, where ids are unpadded and include BOS and EOS.
/// </summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizerOption = new Option<DirectoryInfo>("--tokenizer")
        {
            HelpName = "DIR",
            Description = "Tokenizer folder (vocab.json, merges.txt, tokenizer_config.json)",
        };
        var modelOption = new Option<DirectoryInfo>("--model")
        {
            HelpName = "DIR",
            Description = "Model folder in the diffusers layout; its tokenizer/ subfolder is used",
        };
        var textArgument = new Argument<string>("text") { Description = "The prompt to tokenize" };

        var command = new Command("tokenize", "Print a prompt's CLIP token ids as JSON")
        {
            tokenizerOption,
            modelOption,
            textArgument,
        };
        command.Validators.Add(result =>
        {
            var hasTokenizer = result.GetResult(tokenizerOption) is not null;
            var hasModel = result.GetResult(modelOption) is not null;
            if (hasTokenizer == hasModel)
                result.AddError("give exactly one of --tokenizer DIR or --model DIR");
        });

        command.SetAction(parseResult =>
        {
            var tokenizerDirectory = parseResult.GetValue(tokenizerOption)?.FullName
                ?? Path.Combine(parseResult.GetValue(modelOption)!.FullName, "tokenizer");
            ClipTokenizer tokenizer;
            try
            {
                tokenizer = ClipTokenizer.Load(tokenizerDirectory);
            }
            catch (ModelLoadException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }

            var prompt = tokenizer.Encode(parseResult.GetValue(textArgument)!);
            Console.Out.WriteLine(ToJson(prompt));
            return 0;
        });
        return command;
    }

    private static string ToJson(TokenizedPrompt prompt)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("ids");
            foreach (var id in prompt.Ids) json.WriteNumberValue(id);
            json.WriteEndArray();
            json.WriteNumber("count", prompt.Count);
            json.WriteBoolean("truncated", prompt.Truncated);
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
