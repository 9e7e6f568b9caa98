using System.Collections.ObjectModel;
using System.Numerics.Tensors;
using DiffusionEngine.Noise;

namespace DiffusionEngine.Schedulers;

/// <summary>
/// diffusers' <c>LCMScheduler</c> (Luo et al. 2023, "Latent Consistency Models"): each step maps the sample to the
/// consistency function's denoised estimate (boundary-condition scalings c_skip, c_out) and, except on the last step,
/// re-noises it to the next timestep with noise from the step's <see cref="INoiseSource"/>. Timesteps are a subset of
/// the distillation schedule of original_inference_steps. Config keys: num_train_timesteps, beta_start, beta_end,
/// beta_schedule (default scaled_linear 0.00085..0.012), trained_betas, original_inference_steps, clip_sample,
/// clip_sample_range, set_alpha_to_one, prediction_type (epsilon|sample|v_prediction), timestep_scaling,
/// rescale_betas_zero_snr, thresholding, dynamic_thresholding_ratio, sample_max_value.
/// </summary>
public sealed class LcmScheduler : IScheduler
{
    /// <summary>The diffusers class name.</summary>
    public const string ClassName = "LCMScheduler";

    // σ_data of the consistency-model boundary condition.
    private const double SigmaData = 0.5;

    private readonly float[] _alphasCumprod;
    private readonly float _finalAlphaCumprod;
    private readonly int _originalInferenceSteps;
    private readonly bool _clipSample;
    private readonly float _clipSampleRange;
    private readonly PredictionType _predictionType;
    private readonly double _timestepScaling;
    private readonly bool _thresholding;
    private readonly double _dynamicThresholdingRatio;
    private readonly double _sampleMaxValue;

    private int[] _timesteps = [];
    private ReadOnlyCollection<float> _timestepValues = ReadOnlyCollection<float>.Empty;
    private float[]? _noiseBuffer;
    private float[]? _x0Buffer;
    private float[]? _thresholdScratch;

    /// <summary>Builds the scheduler from a diffusers config; missing keys take LCMScheduler's defaults.</summary>
    /// <exception cref="ArgumentException">A key has a value LCM does not support.</exception>
    public LcmScheduler(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        NumTrainTimesteps = config.GetInt32("num_train_timesteps", 1000);
        var betas = ScheduleMath.Betas(config, ClassName, 0.00085, 0.012, "scaled_linear");
        if (config.GetBoolean("rescale_betas_zero_snr", false)) betas = ScheduleMath.RescaleZeroTerminalSnr(betas);
        _alphasCumprod = ScheduleMath.AlphasCumprod(betas);
        _finalAlphaCumprod = config.GetBoolean("set_alpha_to_one", true) ? 1f : _alphasCumprod[0];
        _originalInferenceSteps = config.GetInt32("original_inference_steps", 50);
        if (_originalInferenceSteps < 1 || _originalInferenceSteps > NumTrainTimesteps)
        {
            throw new ArgumentException(
                $"original_inference_steps must be between 1 and num_train_timesteps ({NumTrainTimesteps}) but was {_originalInferenceSteps}", nameof(config));
        }

        _clipSample = config.GetBoolean("clip_sample", false);
        _clipSampleRange = (float)config.GetDouble("clip_sample_range", 1.0);
        _predictionType = PredictionTypes.Read(config, ClassName, allowSample: true);
        _timestepScaling = config.GetDouble("timestep_scaling", 10.0);
        _thresholding = config.GetBoolean("thresholding", false);
        _dynamicThresholdingRatio = config.GetDouble("dynamic_thresholding_ratio", 0.995);
        _sampleMaxValue = config.GetDouble("sample_max_value", 1.0);
    }

    /// <summary>Training timesteps of the model (num_train_timesteps).</summary>
    public int NumTrainTimesteps { get; }

    /// <summary>
    /// How many images the sample span holds (default 1). Only dynamic thresholding (thresholding = true) uses it: its
    /// quantile is taken per image.
    /// </summary>
    public int BatchSize { get; set; } = 1;

    /// <inheritdoc />
    public IReadOnlyList<float> Timesteps => _timestepValues;

    /// <inheritdoc />
    public float InitNoiseSigma => 1f;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">More steps than original_inference_steps, or fewer than 1.</exception>
    public void SetTimesteps(int numInferenceSteps)
    {
        if (numInferenceSteps < 1 || numInferenceSteps > _originalInferenceSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"numInferenceSteps must be between 1 and original_inference_steps ({_originalInferenceSteps}) but was {numInferenceSteps}");
        }

        // The distillation schedule k·j − 1 (j = 1..original_inference_steps), newest first, sampled at evenly spaced indices.
        var k = NumTrainTimesteps / _originalInferenceSteps;
        var indices = ScheduleMath.Linspace(0, _originalInferenceSteps, numInferenceSteps, endpoint: false);
        var timesteps = new int[numInferenceSteps];
        for (var i = 0; i < numInferenceSteps; i++)
        {
            var index = (int)Math.Floor(indices[i]);
            timesteps[i] = (_originalInferenceSteps - index) * k - 1;
        }

        Apply(timesteps);
    }

    /// <summary>
    /// Uses a custom, strictly descending timestep schedule (diffusers' set_timesteps(timesteps=…)), e.g. [999, 759, 499, 259].
    /// </summary>
    /// <exception cref="ArgumentException">Empty, not strictly descending, or starting at or beyond num_train_timesteps.</exception>
    public void SetTimesteps(IReadOnlyList<int> timesteps)
    {
        ArgumentNullException.ThrowIfNull(timesteps);
        if (timesteps.Count == 0) throw new ArgumentException("timesteps must not be empty", nameof(timesteps));
        for (var i = 1; i < timesteps.Count; i++)
        {
            if (timesteps[i] >= timesteps[i - 1])
            {
                throw new ArgumentException($"timesteps must be in descending order but {timesteps[i]} follows {timesteps[i - 1]}", nameof(timesteps));
            }
        }

        if (timesteps[0] >= NumTrainTimesteps || timesteps[^1] < 0)
        {
            throw new ArgumentException($"timesteps must lie in [0, {NumTrainTimesteps - 1}] but ran from {timesteps[0]} to {timesteps[^1]}", nameof(timesteps));
        }

        var copy = new int[timesteps.Count];
        for (var i = 0; i < copy.Length; i++) copy[i] = timesteps[i];
        Apply(copy);
    }

    /// <summary>The timestep after <paramref name="timestep"/> in the schedule, or −1 after the last (diffusers' previous_timestep).</summary>
    /// <exception cref="ArgumentException">The timestep is not in the schedule.</exception>
    public int PreviousTimestep(int timestep)
    {
        var index = Array.IndexOf(_timesteps, timestep);
        if (index < 0) throw new ArgumentException($"timestep {timestep} is not in the schedule", nameof(timestep));
        return index == _timesteps.Length - 1 ? -1 : _timesteps[index + 1];
    }

    /// <summary>LCM needs no input scaling: the sample is left as is.</summary>
    public void ScaleModelInput(Span<float> sample, int stepIndex) => CheckStepIndex(stepIndex);

    /// <inheritdoc />
    /// <remarks>Every step but the last draws sample-sized noise from <paramref name="noise"/>; with none it is zero.</remarks>
    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, INoiseSource? noise = null)
    {
        CheckStepIndex(stepIndex);
        if (modelOutput.Length != sample.Length)
        {
            throw new ArgumentException($"modelOutput has {modelOutput.Length} values but sample has {sample.Length}", nameof(modelOutput));
        }

        // 1. The next timestep (the same one on the last step) and its ᾱ.
        var timestep = _timesteps[stepIndex];
        var isLast = stepIndex == _timesteps.Length - 1;
        var prevTimestep = isLast ? timestep : _timesteps[stepIndex + 1];
        var alphaProdT = _alphasCumprod[timestep];
        var alphaProdPrev = prevTimestep >= 0 ? _alphasCumprod[prevTimestep] : _finalAlphaCumprod;
        var sqrtAlphaT = MathF.Sqrt(alphaProdT);
        var sqrtBetaT = MathF.Sqrt(1f - alphaProdT);

        // 2. Boundary-condition scalings: c_skip = σ_d²/((s·t)² + σ_d²), c_out = s·t/sqrt((s·t)² + σ_d²).
        var scaled = timestep * _timestepScaling;
        var cSkip = (float)(SigmaData * SigmaData / (scaled * scaled + SigmaData * SigmaData));
        var cOut = (float)(scaled / Math.Sqrt(scaled * scaled + SigmaData * SigmaData));

        if (_thresholding)
        {
            // Dynamic thresholding needs every x0 of an image first (per-image quantile).
            _x0Buffer ??= new float[sample.Length];
            _thresholdScratch ??= new float[sample.Length];
            if (_x0Buffer.Length != sample.Length) throw new ArgumentException($"sample has {sample.Length} values but earlier steps had {_x0Buffer.Length}", nameof(sample));
            for (var i = 0; i < sample.Length; i++) _x0Buffer[i] = PredictX0(sample[i], modelOutput[i], sqrtAlphaT, sqrtBetaT);
            ScheduleMath.DynamicThreshold(_x0Buffer, BatchSize, _dynamicThresholdingRatio, _sampleMaxValue, _thresholdScratch);
        }

        // 3. x0 from the model output (thresholded or clipped if configured); 4. denoised = c_out·x0 + c_skip·x.
        for (var i = 0; i < sample.Length; i++)
        {
            var x = sample[i];
            float x0;
            if (_thresholding) x0 = _x0Buffer![i];
            else
            {
                x0 = PredictX0(x, modelOutput[i], sqrtAlphaT, sqrtBetaT);
                if (_clipSample) x0 = Math.Clamp(x0, -_clipSampleRange, _clipSampleRange);
            }

            sample[i] = cOut * x0 + cSkip * x;
        }

        // 5. Multistep: re-noise the denoised sample to the next timestep, sqrt(ᾱ_prev)·x0 + sqrt(1 − ᾱ_prev)·z.
        if (isLast) return;
        TensorPrimitives.Multiply(sample, MathF.Sqrt(alphaProdPrev), sample);
        if (noise is null) return;
        var buffer = NoiseBuffer(sample.Length);
        noise.Fill(buffer);
        TensorPrimitives.MultiplyAdd(buffer, MathF.Sqrt(1f - alphaProdPrev), sample, sample);
    }

    /// <inheritdoc />
    public void AddNoise(Span<float> sample, ReadOnlySpan<float> noise, int stepIndex)
    {
        CheckStepIndex(stepIndex);
        if (noise.Length != sample.Length) throw new ArgumentException($"noise has {noise.Length} values but sample has {sample.Length}", nameof(noise));
        var alphaProd = _alphasCumprod[_timesteps[stepIndex]];
        // sqrt(ᾱ_t)·x0 + sqrt(1 − ᾱ_t)·ε
        TensorPrimitives.Multiply(sample, MathF.Sqrt(alphaProd), sample);
        TensorPrimitives.MultiplyAdd(noise, MathF.Sqrt(1f - alphaProd), sample, sample);
    }

    private float PredictX0(float x, float output, float sqrtAlphaT, float sqrtBetaT) => _predictionType switch
    {
        PredictionType.Epsilon => (x - sqrtBetaT * output) / sqrtAlphaT,
        PredictionType.VPrediction => sqrtAlphaT * x - sqrtBetaT * output,
        _ => output,
    };

    private void Apply(int[] timesteps)
    {
        _timesteps = timesteps;
        var values = new float[timesteps.Length];
        for (var i = 0; i < values.Length; i++) values[i] = timesteps[i];
        _timestepValues = Array.AsReadOnly(values);
    }

    private float[] NoiseBuffer(int length)
    {
        if (_noiseBuffer is null || _noiseBuffer.Length != length) _noiseBuffer = new float[length];
        return _noiseBuffer;
    }

    private void CheckStepIndex(int stepIndex)
    {
        if (_timesteps.Length == 0) throw new InvalidOperationException($"{ClassName}: call SetTimesteps before stepping");
        if ((uint)stepIndex >= (uint)_timesteps.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(stepIndex), stepIndex, $"stepIndex must be between 0 and {_timesteps.Length - 1} but was {stepIndex}");
        }
    }
}
