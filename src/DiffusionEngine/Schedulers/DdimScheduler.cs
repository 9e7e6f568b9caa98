using System.Collections.ObjectModel;
using System.Numerics.Tensors;
using DiffusionEngine.Noise;

namespace DiffusionEngine.Schedulers;

/// <summary>
/// diffusers' <c>DDIMScheduler</c> (Song et al. 2020, "Denoising Diffusion Implicit Models", eq. 12): deterministic
/// for <see cref="Eta"/> = 0. Config keys: num_train_timesteps, beta_start, beta_end, beta_schedule, trained_betas,
/// clip_sample, clip_sample_range, set_alpha_to_one, steps_offset, prediction_type (epsilon|sample|v_prediction),
/// timestep_spacing (default leading), rescale_betas_zero_snr, thresholding, dynamic_thresholding_ratio, sample_max_value.
/// </summary>
public sealed class DdimScheduler : IScheduler
{
    /// <summary>The diffusers class name.</summary>
    public const string ClassName = "DDIMScheduler";

    private readonly float[] _alphasCumprod;
    private readonly float _finalAlphaCumprod;
    private readonly bool _clipSample;
    private readonly float _clipSampleRange;
    private readonly int _stepsOffset;
    private readonly PredictionType _predictionType;
    private readonly string _timestepSpacing;
    private readonly bool _thresholding;
    private readonly double _dynamicThresholdingRatio;
    private readonly double _sampleMaxValue;
    private int[] _timesteps = [];
    private ReadOnlyCollection<float> _timestepValues = ReadOnlyCollection<float>.Empty;
    private int _numInferenceSteps;
    private float[]? _noiseBuffer;
    private float[]? _x0Buffer;
    private float[]? _thresholdScratch;

    /// <summary>Builds the scheduler from a diffusers config; missing keys take DDIMScheduler's defaults.</summary>
    /// <exception cref="ArgumentException">A key has a value DDIM does not support.</exception>
    public DdimScheduler(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        NumTrainTimesteps = config.GetInt32("num_train_timesteps", 1000);
        var betas = ScheduleMath.Betas(config, ClassName, 0.0001, 0.02, "linear");
        if (config.GetBoolean("rescale_betas_zero_snr", false)) betas = ScheduleMath.RescaleZeroTerminalSnr(betas);
        _alphasCumprod = ScheduleMath.AlphasCumprod(betas);
        // At the last step there is no previous alpha: 1.0 (x0 exactly) or alphas_cumprod[0], per set_alpha_to_one.
        _finalAlphaCumprod = config.GetBoolean("set_alpha_to_one", true) ? 1f : _alphasCumprod[0];
        _clipSample = config.GetBoolean("clip_sample", true);
        _clipSampleRange = (float)config.GetDouble("clip_sample_range", 1.0);
        _stepsOffset = config.GetInt32("steps_offset", 0);
        _predictionType = PredictionTypes.Read(config, ClassName, allowSample: true);
        _timestepSpacing = ScheduleMath.OneOf("timestep_spacing", config.GetString("timestep_spacing", "leading"), ClassName, "linspace", "leading", "trailing");
        _thresholding = config.GetBoolean("thresholding", false);
        _dynamicThresholdingRatio = config.GetDouble("dynamic_thresholding_ratio", 0.995);
        _sampleMaxValue = config.GetDouble("sample_max_value", 1.0);
    }

    /// <summary>Training timesteps of the model (num_train_timesteps).</summary>
    public int NumTrainTimesteps { get; }

    /// <summary>DDIM's η: 0 is deterministic DDIM, 1 is DDPM-like. With η &gt; 0, <see cref="Step"/> draws from its noise source.</summary>
    public double Eta { get; init; }

    /// <summary>
    /// How many images the sample span holds (default 1). Only dynamic thresholding (thresholding = true) uses it: its
    /// quantile is taken per image.
    /// </summary>
    public int BatchSize { get; set; } = 1;

    /// <inheritdoc />
    public IReadOnlyList<float> Timesteps => _timestepValues;

    /// <inheritdoc />
    public float InitNoiseSigma => 1f;

    /// <summary>
    /// With leading spacing the last timestep is (n − 1)·⌊T/n⌋ + steps_offset, which passes the training range when
    /// n is close to T (diffusers then fails with an IndexError deep in step); say so up front instead.
    /// </summary>
    private void CheckLeadingScheduleFits(int numInferenceSteps, int ratio)
    {
        var last = (numInferenceSteps - 1) * ratio + _stepsOffset;
        if (last >= NumTrainTimesteps)
        {
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"numInferenceSteps {numInferenceSteps} with leading timestep spacing and steps_offset {_stepsOffset} reaches timestep {last}, " +
                $"beyond the {NumTrainTimesteps} training timesteps; use at most {NumTrainTimesteps - _stepsOffset} steps");
        }
    }

    /// <inheritdoc />
    public void SetTimesteps(int numInferenceSteps)
    {
        // Copied from EulerDiscreteScheduler.SetTimesteps (argument check)
        if (numInferenceSteps < 1 || numInferenceSteps > NumTrainTimesteps)
        {
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"numInferenceSteps must be between 1 and num_train_timesteps ({NumTrainTimesteps}) but was {numInferenceSteps}");
        }

        _numInferenceSteps = numInferenceSteps;
        var timesteps = new int[numInferenceSteps];
        switch (_timestepSpacing)
        {
            case "linspace":
                var line = ScheduleMath.Linspace(0, NumTrainTimesteps - 1, numInferenceSteps);
                for (var i = 0; i < numInferenceSteps; i++) timesteps[i] = (int)ScheduleMath.Round(line[numInferenceSteps - 1 - i]);
                break;
            case "leading":
                var ratio = NumTrainTimesteps / numInferenceSteps;
                CheckLeadingScheduleFits(numInferenceSteps, ratio);
                for (var i = 0; i < numInferenceSteps; i++) timesteps[i] = (numInferenceSteps - 1 - i) * ratio + _stepsOffset;
                break;
            default: // trailing
                var trailing = ScheduleMath.Arange(NumTrainTimesteps, 0, -(double)NumTrainTimesteps / numInferenceSteps);
                timesteps = new int[trailing.Length];
                for (var i = 0; i < trailing.Length; i++) timesteps[i] = (int)ScheduleMath.Round(trailing[i]) - 1;
                break;
        }

        _timesteps = timesteps;
        var values = new float[timesteps.Length];
        for (var i = 0; i < values.Length; i++) values[i] = timesteps[i];
        _timestepValues = Array.AsReadOnly(values);
    }

    /// <summary>DDIM needs no input scaling: the sample is left as is.</summary>
    public void ScaleModelInput(Span<float> sample, int stepIndex) => CheckStepIndex(stepIndex);

    /// <summary>
    /// σ_t² of DDIM eq. 16 without η: (1 − ᾱ_prev)/(1 − ᾱ_t) · (1 − ᾱ_t/ᾱ_prev), with ᾱ_prev the final alpha when
    /// <paramref name="previousTimestep"/> is negative.
    /// </summary>
    public double GetVariance(int timestep, int previousTimestep)
    {
        var alphaProdT = _alphasCumprod[timestep];
        var alphaProdPrev = previousTimestep >= 0 ? _alphasCumprod[previousTimestep] : _finalAlphaCumprod;
        var betaProdT = 1f - alphaProdT;
        var betaProdPrev = 1f - alphaProdPrev;
        return betaProdPrev / betaProdT * (1f - alphaProdT / alphaProdPrev);
    }

    /// <inheritdoc />
    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, INoiseSource? noise = null)
    {
        CheckStepIndex(stepIndex);
        if (modelOutput.Length != sample.Length)
        {
            throw new ArgumentException($"modelOutput has {modelOutput.Length} values but sample has {sample.Length}", nameof(modelOutput));
        }

        // 1. previous timestep t − T/n (diffusers uses the integer ratio whatever the spacing).
        var timestep = _timesteps[stepIndex];
        var prevTimestep = timestep - NumTrainTimesteps / _numInferenceSteps;

        // 2. ᾱ_t and ᾱ_prev.
        double alphaProdT = _alphasCumprod[timestep];
        double alphaProdPrev = prevTimestep >= 0 ? _alphasCumprod[prevTimestep] : _finalAlphaCumprod;
        var betaProdT = 1 - alphaProdT;

        // 5. σ_t = η·sqrt(variance) (eq. 16); 6./7. direction coefficient sqrt(1 − ᾱ_prev − σ_t²).
        var stdDev = Eta * Math.Sqrt(GetVariance(timestep, prevTimestep));
        var sqrtAlphaT = Math.Sqrt(alphaProdT);
        var sqrtBetaT = Math.Sqrt(betaProdT);
        var sqrtAlphaPrev = (float)Math.Sqrt(alphaProdPrev);
        var direction = (float)Math.Sqrt(1 - alphaProdPrev - stdDev * stdDev);
        var clip = _clipSample && !_thresholding;
        var range = _clipSampleRange;

        if (_thresholding)
        {
            // 4. Dynamic thresholding needs every x0 of an image first (per-image quantile).
            _x0Buffer ??= new float[sample.Length];
            _thresholdScratch ??= new float[sample.Length];
            if (_x0Buffer.Length != sample.Length) throw new ArgumentException($"sample has {sample.Length} values but earlier steps had {_x0Buffer.Length}", nameof(sample));
            for (var i = 0; i < sample.Length; i++) _x0Buffer[i] = Predict(sample[i], modelOutput[i], sqrtAlphaT, sqrtBetaT).X0;
            ScheduleMath.DynamicThreshold(_x0Buffer, BatchSize, _dynamicThresholdingRatio, _sampleMaxValue, _thresholdScratch);
        }

        // 3. x0 and ε from the model output; 4. clip x0; 7. x_prev = sqrt(ᾱ_prev)·x0 + direction·ε (eq. 12).
        for (var i = 0; i < sample.Length; i++)
        {
            var (x0, epsilon) = Predict(sample[i], modelOutput[i], sqrtAlphaT, sqrtBetaT);
            if (_thresholding) x0 = _x0Buffer![i];
            else if (clip) x0 = Math.Clamp(x0, -range, range);
            sample[i] = sqrtAlphaPrev * x0 + direction * epsilon;
        }

        if (Eta > 0)
        {
            // x_prev += σ_t · z, z ~ N(0, 1); no source means z = 0.
            if (noise is null) return;
            var buffer = NoiseBuffer(sample.Length);
            noise.Fill(buffer);
            TensorPrimitives.MultiplyAdd(buffer, (float)stdDev, sample, sample);
        }
    }

    /// <inheritdoc />
    public void AddNoise(Span<float> sample, ReadOnlySpan<float> noise, int stepIndex)
    {
        CheckStepIndex(stepIndex);
        if (noise.Length != sample.Length) throw new ArgumentException($"noise has {noise.Length} values but sample has {sample.Length}", nameof(noise));
        var alphaProd = _alphasCumprod[_timesteps[stepIndex]];
        var sqrtAlpha = MathF.Sqrt(alphaProd);
        var sqrtOneMinusAlpha = MathF.Sqrt(1f - alphaProd);
        // sqrt(ᾱ_t)·x0 + sqrt(1 − ᾱ_t)·ε
        TensorPrimitives.Multiply(sample, sqrtAlpha, sample);
        TensorPrimitives.MultiplyAdd(noise, sqrtOneMinusAlpha, sample, sample);
    }

    /// <summary>x0 and ε from one model output value (ε is computed from the unclipped prediction, as diffusers does).</summary>
    private (float X0, float Epsilon) Predict(float x, float output, double sqrtAlphaT, double sqrtBetaT) => _predictionType switch
    {
        PredictionType.Epsilon => ((float)((x - sqrtBetaT * output) / sqrtAlphaT), output),
        PredictionType.Sample => (output, (float)((x - sqrtAlphaT * output) / sqrtBetaT)),
        _ => ((float)(sqrtAlphaT * x - sqrtBetaT * output), (float)(sqrtAlphaT * output + sqrtBetaT * x)),
    };

    // Copied from EulerDiscreteScheduler.NoiseBuffer
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
