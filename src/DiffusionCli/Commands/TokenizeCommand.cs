using System.CommandLine;
using System.Text.Json;
using DiffusionEngine.Models;
using DiffusionEngine.Text;
using DiffusionEngine.Text.Prompts;

namespace DiffusionCli.Commands;

/// <summary>
/// <c>tokenize (--tokenizer DIR | --model DIR) [--syntax a1111|plain] [--max-chunks N] TEXT</c>: prints what the text
/// encoder receives for the prompt, as one JSON object:
/// <c>{"syntax":"a1111","chunk_count":N,"token_count":T,"truncated":false,"chunks":[{"token_count":t,"ids":[…77],"weights":[…77]},…]}</c>.
/// Each chunk's ids are padded to the window (BOS, tokens, EOS, padding); weights are one per id. <c>token_count</c> is
/// A1111's count (75 per chunk before the last); <c>truncated</c> is true only when plain syntax cut the text.
/// A prompt beyond --max-chunks, or with a weight that is not a number, is an error (exit 1).
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
        var prompts = new PromptOptions();
        var textArgument = new Argument<string>("text") { Description = "The prompt to tokenize" };

        var command = new Command("tokenize", "Print the chunks of token ids and weights the text encoder receives for a prompt, as JSON")
        {
            tokenizerOption,
            modelOption,
            prompts.Syntax,
            prompts.MaxChunks,
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
            var errors = parseResult.InvocationConfiguration.Error;
            var tokenizerDirectory = parseResult.GetValue(tokenizerOption)?.FullName
                ?? Path.Combine(parseResult.GetValue(modelOption)!.FullName, "tokenizer");
            var syntax = prompts.SyntaxOf(parseResult);
            ChunkedPrompt prompt;
            try
            {
                var tokenizer = ClipTokenizer.Load(tokenizerDirectory);
                prompt = PromptTokenizer.Tokenize(parseResult.GetValue(textArgument)!, tokenizer, syntax, parseResult.GetValue(prompts.MaxChunks));
            }
            catch (Exception e) when (e is ModelLoadException or ArgumentException)
            {
                errors.WriteLine($"error: {CliModel.ErrorMessage(e)}");
                return 1;
            }

            parseResult.InvocationConfiguration.Output.WriteLine(ToJson(prompt));
            return 0;
        });
        return command;
    }

    /// <summary>The report printed for <paramref name="prompt"/>: one line of JSON.</summary>
    private static string ToJson(ChunkedPrompt prompt)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("syntax", PromptSyntaxNames.NameOf(prompt.Syntax));
            json.WriteNumber("chunk_count", prompt.ChunkCount);
            json.WriteNumber("token_count", prompt.TokenCount);
            json.WriteBoolean("truncated", prompt.Truncated);
            json.WriteStartArray("chunks");
            foreach (var chunk in prompt.Chunks)
            {
                json.WriteStartObject();
                json.WriteNumber("token_count", chunk.TokenCount);
                json.WriteStartArray("ids");
                foreach (var id in chunk.Ids) json.WriteNumberValue(id);
                json.WriteEndArray();
                json.WriteStartArray("weights");
                foreach (var weight in chunk.Weights) json.WriteNumberValue(weight);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
