using DiffusionEngine.TinyModel;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionEngine.Tests.TinyModel;

/// <summary>
/// Test-side driver of a tiny model's sessions: converts float32 test data to and from the variant's tensor types
/// (float16, int32/int64 ids, int64 [batch] or rank-0 float timestep) so tests can run every variant the same way.
/// </summary>
internal sealed class TinyModelRunner(
    InferenceSession textEncoder, InferenceSession unet, InferenceSession decoder,
    ModelDataType dataType, InputIdsType inputIds, TimestepInput timestepInput)
{
    public const int Tokens = 77;

    /// <summary>Runs the text encoder on the same 77 ids for every batch entry; returns last_hidden_state.</summary>
    public float[] EncodeText(long[] ids, int batch)
    {
        var all = new long[batch * Tokens];
        for (var b = 0; b < batch; b++)
            for (var t = 0; t < Tokens; t++) all[b * Tokens + t] = ids[t % ids.Length];
        using var value = inputIds == InputIdsType.Int64
            ? OrtValue.CreateTensorValueFromMemory(all, [batch, Tokens])
            : OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(all, id => (int)id), [batch, Tokens]);
        return RunWith(textEncoder, ["input_ids"], [value], "last_hidden_state");
    }

    public float[] PredictNoise(float[] latents, float[] hidden, int batch, int timestep)
    {
        var size = (long)Math.Sqrt(latents.Length / (batch * 4));
        using var sample = CreateFloat(latents, [batch, 4, size, size]);
        using var states = CreateFloat(hidden, [batch, Tokens, hidden.Length / (batch * Tokens)]);
        using var time = timestepInput == TimestepInput.Int64Batch
            ? OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat((long)timestep, batch).ToArray(), [batch])
            : CreateFloat([timestep], []);
        return RunWith(unet, ["sample", "timestep", "encoder_hidden_states"], [sample, time, states], "out_sample");
    }

    public float[] Decode(float[] latents, int batch)
    {
        var size = (long)Math.Sqrt(latents.Length / (batch * 4));
        return Run(decoder, [("latent_sample", latents, new long[] { batch, 4, size, size })], "sample");
    }

    public float[] Run(InferenceSession session, (string Name, float[] Data, long[] Shape)[] inputs, string output)
    {
        var values = inputs.Select(input => CreateFloat(input.Data, input.Shape)).ToArray();
        try { return RunWith(session, inputs.Select(input => input.Name).ToArray(), values, output); }
        finally { foreach (var value in values) value.Dispose(); }
    }

    /// <summary>Standard normal values (Box–Muller on System.Random): test input only.</summary>
    public static float[] GaussianLatents(int batch, int size, int seed)
    {
        var random = new Random(seed);
        var values = new float[batch * 4 * size * size];
        for (var i = 0; i < values.Length; i++)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            values[i] = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return values;
    }

    private OrtValue CreateFloat(float[] data, long[] shape) => dataType == ModelDataType.Float16
        ? OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(data, value => (Float16)value), shape)
        : OrtValue.CreateTensorValueFromMemory(data, shape);

    private float[] RunWith(InferenceSession session, string[] names, OrtValue[] values, string output)
    {
        using var options = new RunOptions();
        using var results = session.Run(options, names, values, [output]);
        var result = results[0];
        return dataType == ModelDataType.Float16
            ? Array.ConvertAll(result.GetTensorDataAsSpan<Float16>().ToArray(), value => value.ToFloat())
            : result.GetTensorDataAsSpan<float>().ToArray();
    }
}
