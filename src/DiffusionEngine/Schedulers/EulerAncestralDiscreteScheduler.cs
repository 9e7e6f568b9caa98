using System.Collections.ObjectModel;
using System.Numerics.Tensors;
using DiffusionEngine.Noise;

namespace DiffusionEngine.Schedulers;

/// <summary>
/// diffusers' <c>EulerAncestralDiscreteScheduler</c> ("Euler a" in A1111, k-diffusion's sample_euler_ancestral):
/// an Euler step down to σ_down followed by fresh noise of size σ_up, drawn from the step's <see cref="INoiseSource"/>
/// on every step (also the last, where σ_up = 0, so the stream advances exactly as torch's generator does).
/// Config keys: num_train_timesteps, beta_start, beta_end, beta_schedule, trained_betas, prediction_type
/// (epsilon|v_prediction), timestep_spacing (default linspace), steps_offset, rescale_betas_zero_snr.
/// </summary>
public sealed class EulerAncestralDiscreteScheduler : IScheduler
{
    /// <summary>The diffusers class name.</summary>
    public const string ClassName = "EulerAncestralDiscreteScheduler";

    private readonly float[] _sigmaTable;
    private readonly PredictionType _predictionType;
    private readonly string _timestepSpacing;
    private readonly int _stepsOffset;

    private float[] _sigmas = [];
    private ReadOnlyCollection<float> _timestepValues = ReadOnlyCollection<float>.Empty;
    private float[]? _noiseBuffer;

    /// <summary>Builds the scheduler from a diffusers config; missing keys take EulerAncestralDiscreteScheduler's defaults.</summary>
    /// <exception cref="ArgumentException">A key has a value this scheduler does not support.</exception>
    public EulerAncestralDiscreteScheduler(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        NumTrainTimesteps = config.GetInt32("num_train_timesteps", 1000);
        var betas = ScheduleMath.Betas(config, ClassName, 0.0001, 0.02, "linear");
        var rescale = config.GetBoolean("rescale_betas_zero_snr", false);
        if (rescale) betas = ScheduleMath.RescaleZeroTerminalSnr(betas);
        var alphasCumprod = ScheduleMath.AlphasCumprod(betas);
        // Zero terminal SNR would make the last sigma infinite; diffusers sets ᾱ to 2^-24 there instead.
        if (rescale) alphasCumprod[^1] = 1f / (1 << 24);
        _sigmaTable = ScheduleMath.SigmaTable(alphasCumprod);
        _predictionType = PredictionTypes.Read(config, ClassName, allowSample: false);
        _timestepSpacing = ScheduleMath.OneOf("timestep_spacing", config.GetString("timestep_spacing", "linspace"), ClassName, "linspace", "leading", "trailing");
        _stepsOffset = config.GetInt32("steps_offset", 0);
    }

    /// <summary>Training timesteps of the model (num_train_timesteps).</summary>
    public int NumTrainTimesteps { get; }

    /// <summary>The noise levels, one per timestep plus the final 0.</summary>
    public IReadOnlyList<float> Sigmas => Array.AsReadOnly(_sigmas);

    /// <inheritdoc />
    public IReadOnlyList<float> Timesteps => _timestepValues;

    /// <inheritdoc />
    /// <remarks>max σ for linspace/trailing spacing, sqrt(max σ² + 1) for leading.</remarks>
    public float InitNoiseSigma
    {
        get
        {
            var max = _sigmas.Length == 0 ? _sigmaTable[^1] : TensorPrimitives.Max<float>(_sigmas);
            return _timestepSpacing == "leading" ? MathF.Sqrt(max * max + 1f) : max;
        }
    }

    /// <inheritdoc />
    public void SetTimesteps(int numInferenceSteps)
    {
        if (numInferenceSteps < 1 || numInferenceSteps > NumTrainTimesteps)
        {
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"numInferenceSteps must be between 1 and num_train_timesteps ({NumTrainTimesteps}) but was {numInferenceSteps}");
        }

        var n = numInferenceSteps;
        float[] timesteps;
        switch (_timestepSpacing)
        {
            case "linspace":
                var line = ScheduleMath.Linspace(0, NumTrainTimesteps - 1, n);
                timesteps = new float[n];
                for (var i = 0; i < n; i++) timesteps[i] = (float)line[n - 1 - i];
                break;
            case "leading":
                var ratio = NumTrainTimesteps / n;
                timesteps = new float[n];
                for (var i = 0; i < n; i++) timesteps[i] = (float)((n - 1 - i) * ratio) + _stepsOffset;
                break;
            default: // trailing
                var trailing = ScheduleMath.Arange(NumTrainTimesteps, 0, -(double)NumTrainTimesteps / n);
                timesteps = new float[trailing.Length];
                for (var i = 0; i < trailing.Length; i++) timesteps[i] = (float)ScheduleMath.Round(trailing[i]) - 1f;
                break;
        }

        // Sigmas by np.interp on the float32 table (in double), then a final 0.
        _sigmas = new float[timesteps.Length + 1];
        for (var i = 0; i < timesteps.Length; i++) _sigmas[i] = (float)ScheduleMath.Interp(timesteps[i], _sigmaTable);
        _timestepValues = Array.AsReadOnly(timesteps);
    }

    /// <summary>Scales the UNet input by 1/sqrt(σ² + 1), in place.</summary>
    public void ScaleModelInput(Span<float> sample, int stepIndex)
    {
        CheckStepIndex(stepIndex);
        var sigma = _sigmas[stepIndex];
        TensorPrimitives.Divide(sample, MathF.Sqrt(sigma * sigma + 1f), sample);
    }

    /// <inheritdoc />
    /// <remarks>Draws sample-sized noise from <paramref name="noise"/> every step; with none, the noise term is zero.</remarks>
    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, INoiseSource? noise = null)
    {
        CheckStepIndex(stepIndex);
        if (modelOutput.Length != sample.Length)
        {
            throw new ArgumentException($"modelOutput has {modelOutput.Length} values but sample has {sample.Length}", nameof(modelOutput));
        }

        var sigma = _sigmas[stepIndex];
        var sigmaTo = _sigmas[stepIndex + 1];
        // Split the move to σ_to into a deterministic part (down to σ_down) and fresh noise σ_up, σ_down² + σ_up² = σ_to².
        var sigmaUp = MathF.Sqrt(sigmaTo * sigmaTo * (sigma * sigma - sigmaTo * sigmaTo) / (sigma * sigma));
        var sigmaDown = MathF.Sqrt(MathF.Max(0f, sigmaTo * sigmaTo - sigmaUp * sigmaUp));
        var dt = sigmaDown - sigma;
        var vOutputScale = -sigma / MathF.Sqrt(sigma * sigma + 1f);
        var vSampleScale = sigma * sigma + 1f;
        var vPrediction = _predictionType == PredictionType.VPrediction;

        for (var i = 0; i < sample.Length; i++)
        {
            var x = sample[i];
            var x0 = vPrediction ? modelOutput[i] * vOutputScale + x / vSampleScale : x - sigma * modelOutput[i];
            var derivative = (x - x0) / sigma;
            sample[i] = x + derivative * dt;
        }

        if (noise is not null)
        {
            var buffer = NoiseBuffer(sample.Length);
            noise.Fill(buffer);
            TensorPrimitives.MultiplyAdd(buffer, sigmaUp, sample, sample);
        }
    }

    /// <summary>Forward diffusion in sigma form: x + ε·σ of step <paramref name="stepIndex"/>, in place.</summary>
    public void AddNoise(Span<float> sample, ReadOnlySpan<float> noise, int stepIndex)
    {
        CheckStepIndex(stepIndex);
        if (noise.Length != sample.Length) throw new ArgumentException($"noise has {noise.Length} values but sample has {sample.Length}", nameof(noise));
        TensorPrimitives.MultiplyAdd(noise, _sigmas[stepIndex], sample, sample);
    }

    private float[] NoiseBuffer(int length)
    {
        if (_noiseBuffer is null || _noiseBuffer.Length != length) _noiseBuffer = new float[length];
        return _noiseBuffer;
    }

    private void CheckStepIndex(int stepIndex)
    {
        if (_sigmas.Length == 0) throw new InvalidOperationException($"{ClassName}: call SetTimesteps before stepping");
        if ((uint)stepIndex >= (uint)_timestepValues.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(stepIndex), stepIndex, $"stepIndex must be between 0 and {_timestepValues.Count - 1} but was {stepIndex}");
        }
    }
}
