using System.Collections.ObjectModel;
using System.Numerics.Tensors;
using DiffusionEngine.Noise;

namespace DiffusionEngine.Schedulers;

/// <summary>
/// diffusers' <c>EulerDiscreteScheduler</c> (Karras et al. 2022, Algorithm 2, "Euler" in k-diffusion/A1111).
/// Config keys: num_train_timesteps, beta_start, beta_end, beta_schedule, trained_betas, prediction_type
/// (epsilon|sample|v_prediction), interpolation_type (linear|log_linear), use_karras_sigmas, use_exponential_sigmas,
/// sigma_min, sigma_max, timestep_spacing (default linspace), timestep_type (discrete|continuous), steps_offset,
/// rescale_betas_zero_snr, final_sigmas_type (zero|sigma_min). Deterministic unless <see cref="SChurn"/> &gt; 0.
/// </summary>
public sealed class EulerDiscreteScheduler : IScheduler
{
    /// <summary>The diffusers class name.</summary>
    public const string ClassName = "EulerDiscreteScheduler";

    private readonly float[] _alphasCumprod;
    private readonly float[] _sigmaTable;
    private readonly PredictionType _predictionType;
    private readonly string _interpolationType;
    private readonly bool _useKarrasSigmas;
    private readonly bool _useExponentialSigmas;
    private readonly double? _sigmaMin;
    private readonly double? _sigmaMax;
    private readonly string _timestepSpacing;
    private readonly bool _continuousTimesteps;
    private readonly int _stepsOffset;
    private readonly bool _finalSigmaIsMin;

    private float[] _sigmas = [];
    private ReadOnlyCollection<float> _timestepValues = ReadOnlyCollection<float>.Empty;
    private float[]? _noiseBuffer;

    /// <summary>Builds the scheduler from a diffusers config; missing keys take EulerDiscreteScheduler's defaults.</summary>
    /// <exception cref="ArgumentException">A key has a value this scheduler does not support.</exception>
    public EulerDiscreteScheduler(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        NumTrainTimesteps = config.GetInt32("num_train_timesteps", 1000);
        var betas = ScheduleMath.Betas(config, ClassName, 0.0001, 0.02, "linear");
        var rescale = config.GetBoolean("rescale_betas_zero_snr", false);
        if (rescale) betas = ScheduleMath.RescaleZeroTerminalSnr(betas);
        _alphasCumprod = ScheduleMath.AlphasCumprod(betas);
        // Zero terminal SNR would make the last sigma infinite; diffusers sets ᾱ to 2^-24 there instead.
        if (rescale) _alphasCumprod[^1] = 1f / (1 << 24);
        _sigmaTable = ScheduleMath.SigmaTable(_alphasCumprod);

        _predictionType = PredictionTypes.Read(config, ClassName, allowSample: true);
        _interpolationType = ScheduleMath.OneOf("interpolation_type", config.GetString("interpolation_type", "linear"), ClassName, "linear", "log_linear");
        _useKarrasSigmas = config.GetBoolean("use_karras_sigmas", false);
        _useExponentialSigmas = config.GetBoolean("use_exponential_sigmas", false);
        if (config.GetBoolean("use_beta_sigmas", false))
        {
            throw new ArgumentException($"use_beta_sigmas is not supported by {ClassName} here", nameof(config));
        }

        if (_useKarrasSigmas && _useExponentialSigmas)
        {
            throw new ArgumentException("only one of use_karras_sigmas and use_exponential_sigmas can be true", nameof(config));
        }

        _sigmaMin = config.GetNullableDouble("sigma_min");
        _sigmaMax = config.GetNullableDouble("sigma_max");
        _timestepSpacing = ScheduleMath.OneOf("timestep_spacing", config.GetString("timestep_spacing", "linspace"), ClassName, "linspace", "leading", "trailing");
        var timestepType = ScheduleMath.OneOf("timestep_type", config.GetString("timestep_type", "discrete"), ClassName, "discrete", "continuous");
        _continuousTimesteps = timestepType == "continuous" && _predictionType == PredictionType.VPrediction;
        _stepsOffset = config.GetInt32("steps_offset", 0);
        _finalSigmaIsMin = ScheduleMath.OneOf("final_sigmas_type", config.GetString("final_sigmas_type", "zero"), ClassName, "zero", "sigma_min") == "sigma_min";
    }

    /// <summary>Training timesteps of the model (num_train_timesteps).</summary>
    public int NumTrainTimesteps { get; }

    /// <summary>Whether the schedule uses Karras sigmas (use_karras_sigmas).</summary>
    public bool UseKarrasSigmas => _useKarrasSigmas;

    /// <summary>Stochasticity γ budget (s_churn, Karras Algorithm 2); 0 = deterministic Euler.</summary>
    public double SChurn { get; init; }

    /// <summary>Lowest sigma that receives churn (s_tmin).</summary>
    public double STMin { get; init; }

    /// <summary>Highest sigma that receives churn (s_tmax).</summary>
    public double STMax { get; init; } = double.PositiveInfinity;

    /// <summary>Scale of the churn noise (s_noise).</summary>
    public double SNoise { get; init; } = 1.0;

    /// <summary>The noise levels, one per timestep plus the final one (zero or sigma_min).</summary>
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
        // 1. Timesteps (float32, fractional for linspace).
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

        // 2. Sigmas at those timesteps (np.interp on the float32 table, in double).
        double[] sigmas;
        if (_interpolationType == "linear")
        {
            sigmas = new double[timesteps.Length];
            for (var i = 0; i < sigmas.Length; i++) sigmas[i] = ScheduleMath.Interp(timesteps[i], _sigmaTable);
        }
        else
        {
            // log_linear: torch.linspace(log σ_max, log σ_min, n + 1).exp() in float32.
            var logLine = ScheduleMath.Linspace(MathF.Log(_sigmaTable[^1]), MathF.Log(_sigmaTable[0]), n + 1);
            sigmas = new double[n + 1];
            for (var i = 0; i < sigmas.Length; i++) sigmas[i] = MathF.Exp((float)logLine[i]);
        }

        // 3. Optional Karras / exponential re-spacing; timesteps follow the sigmas (fractional, not rounded).
        if (_useKarrasSigmas || _useExponentialSigmas)
        {
            var sigmaMin = _sigmaMin ?? sigmas[^1];
            var sigmaMax = _sigmaMax ?? sigmas[0];
            sigmas = _useKarrasSigmas ? ScheduleMath.KarrasSigmas(sigmaMin, sigmaMax, n) : ExponentialSigmas(sigmaMin, sigmaMax, n);
            var logSigmas = ScheduleMath.LogSigmas(_sigmaTable);
            timesteps = new float[n];
            for (var i = 0; i < n; i++) timesteps[i] = (float)ScheduleMath.SigmaToT(sigmas[i], logSigmas);
        }

        // 4. The final sigma: 0 (fully denoised) or the table's smallest sigma.
        var sigmaLast = _finalSigmaIsMin ? ScheduleMath.SigmaOf(_alphasCumprod[0]) : 0f;
        _sigmas = new float[sigmas.Length + 1];
        for (var i = 0; i < sigmas.Length; i++) _sigmas[i] = (float)sigmas[i];
        _sigmas[^1] = sigmaLast;

        if (_continuousTimesteps)
        {
            // timestep_type "continuous" with v-prediction feeds the UNet c_noise = ¼·ln σ (EDM).
            timesteps = new float[_sigmas.Length - 1];
            for (var i = 0; i < timesteps.Length; i++) timesteps[i] = 0.25f * MathF.Log(_sigmas[i]);
        }

        _timestepValues = Array.AsReadOnly(timesteps);
    }

    /// <summary>Scales the UNet input by 1/sqrt(σ² + 1) (Karras preconditioning c_in), in place.</summary>
    public void ScaleModelInput(Span<float> sample, int stepIndex)
    {
        CheckStepIndex(stepIndex);
        var sigma = _sigmas[stepIndex];
        TensorPrimitives.Divide(sample, MathF.Sqrt(sigma * sigma + 1f), sample);
    }

    /// <inheritdoc />
    /// <remarks>With s_churn &gt; 0 the step first raises the noise level to σ̂ = σ(1 + γ) with noise from <paramref name="noise"/>.</remarks>
    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, INoiseSource? noise = null)
    {
        CheckStepIndex(stepIndex);
        if (modelOutput.Length != sample.Length)
        {
            throw new ArgumentException($"modelOutput has {modelOutput.Length} values but sample has {sample.Length}", nameof(modelOutput));
        }

        var sigma = _sigmas[stepIndex];
        var gamma = STMin <= sigma && sigma <= STMax ? Math.Min(SChurn / (_sigmas.Length - 1), Math.Sqrt(2) - 1) : 0.0;
        var sigmaHat = (float)(sigma * (gamma + 1));
        if (gamma > 0 && noise is not null)
        {
            // x̂ = x + ε·sqrt(σ̂² − σ²), ε ~ N(0, s_noise²).
            var buffer = NoiseBuffer(sample.Length);
            noise.Fill(buffer);
            var scale = (float)(SNoise * Math.Sqrt((double)sigmaHat * sigmaHat - (double)sigma * sigma));
            TensorPrimitives.MultiplyAdd(buffer, scale, sample, sample);
        }

        var dt = _sigmas[stepIndex + 1] - sigmaHat;
        var vOutputScale = -sigma / MathF.Sqrt(sigma * sigma + 1f);
        var vSampleScale = sigma * sigma + 1f;
        for (var i = 0; i < sample.Length; i++)
        {
            var x = sample[i];
            // 1. x0 from the model output; 2. ODE derivative d = (x − x0)/σ̂; 3. Euler step to the next sigma.
            var x0 = _predictionType switch
            {
                PredictionType.Epsilon => x - sigmaHat * modelOutput[i],
                PredictionType.VPrediction => modelOutput[i] * vOutputScale + x / vSampleScale,
                _ => modelOutput[i],
            };
            var derivative = (x - x0) / sigmaHat;
            sample[i] = x + derivative * dt;
        }
    }

    /// <summary>Forward diffusion in sigma form: x + ε·σ of step <paramref name="stepIndex"/>, in place.</summary>
    public void AddNoise(Span<float> sample, ReadOnlySpan<float> noise, int stepIndex)
    {
        CheckStepIndex(stepIndex);
        if (noise.Length != sample.Length) throw new ArgumentException($"noise has {noise.Length} values but sample has {sample.Length}", nameof(noise));
        TensorPrimitives.MultiplyAdd(noise, _sigmas[stepIndex], sample, sample);
    }

    private static double[] ExponentialSigmas(double sigmaMin, double sigmaMax, int count)
    {
        // exp(linspace(ln σ_max, ln σ_min, n)): evenly spaced in log-sigma.
        var line = ScheduleMath.Linspace(Math.Log(sigmaMax), Math.Log(sigmaMin), count);
        for (var i = 0; i < count; i++) line[i] = Math.Exp(line[i]);
        return line;
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
