using System.Collections.ObjectModel;
using System.Numerics.Tensors;
using DiffusionEngine.Noise;

namespace DiffusionEngine.Schedulers;

/// <summary>
/// diffusers' <c>DPMSolverMultistepScheduler</c> with the data-prediction solvers of Lu et al. 2022,
/// "DPM-Solver++" (A1111's "DPM++ 2M"; "DPM++ 2M Karras" with use_karras_sigmas; "DPM++ 2M SDE" with
/// algorithm_type sde-dpmsolver++, which draws from the step's noise source). Config keys: num_train_timesteps,
/// beta_start, beta_end, beta_schedule, trained_betas, solver_order (1–3, default 2), prediction_type
/// (epsilon|sample|v_prediction), algorithm_type (dpmsolver++|sde-dpmsolver++), solver_type (midpoint|heun),
/// lower_order_final, euler_at_final, thresholding, dynamic_thresholding_ratio, sample_max_value, use_karras_sigmas, use_exponential_sigmas, use_lu_lambdas, final_sigmas_type
/// (zero|sigma_min), lambda_min_clipped, timestep_spacing (default linspace), steps_offset, rescale_betas_zero_snr.
/// Past model outputs live in buffers allocated on the first step and reused.
/// </summary>
public sealed class DpmSolverMultistepScheduler : IScheduler
{
    /// <summary>The diffusers class name.</summary>
    public const string ClassName = "DPMSolverMultistepScheduler";

    private const int MaxOrder = 3;

    private readonly float[] _alphasCumprod;
    private readonly float[] _sigmaTable;
    private readonly float[] _lambdaTable;
    private readonly int _solverOrder;
    private readonly PredictionType _predictionType;
    private readonly bool _sde;
    private readonly bool _heun;
    private readonly bool _lowerOrderFinal;
    private readonly bool _eulerAtFinal;
    private readonly bool _useKarrasSigmas;
    private readonly bool _useExponentialSigmas;
    private readonly bool _useLuLambdas;
    private readonly bool _finalSigmaIsZero;
    private readonly double _lambdaMinClipped;
    private readonly string _timestepSpacing;
    private readonly int _stepsOffset;
    private readonly bool _cosineSchedule;
    private readonly bool _thresholding;
    private readonly double _dynamicThresholdingRatio;
    private readonly double _sampleMaxValue;

    private float[] _sigmas = [];
    private ReadOnlyCollection<float> _timestepValues = ReadOnlyCollection<float>.Empty;
    private readonly float[][] _modelOutputs = new float[MaxOrder][];
    private int _newest = -1;
    private int _lowerOrderNums;
    private float[]? _noiseBuffer;
    private float[]? _thresholdScratch;

    /// <summary>Builds the scheduler from a diffusers config; missing keys take DPMSolverMultistepScheduler's defaults.</summary>
    /// <exception cref="ArgumentException">A key has a value this scheduler does not support.</exception>
    public DpmSolverMultistepScheduler(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        NumTrainTimesteps = config.GetInt32("num_train_timesteps", 1000);
        var betas = ScheduleMath.Betas(config, ClassName, 0.0001, 0.02, "linear");
        _cosineSchedule = config.GetDoubleArray("trained_betas") is null && config.GetString("beta_schedule", "linear") == "squaredcos_cap_v2";
        var rescale = config.GetBoolean("rescale_betas_zero_snr", false);
        if (rescale) betas = ScheduleMath.RescaleZeroTerminalSnr(betas);
        _alphasCumprod = ScheduleMath.AlphasCumprod(betas);
        // Zero terminal SNR would make the last sigma infinite; diffusers sets ᾱ to 2^-24 there instead.
        if (rescale) _alphasCumprod[^1] = 1f / (1 << 24);
        _sigmaTable = ScheduleMath.SigmaTable(_alphasCumprod);
        _lambdaTable = new float[_alphasCumprod.Length];
        for (var i = 0; i < _lambdaTable.Length; i++)
        {
            // λ_t = ln α_t − ln σ_t (half log-SNR), float32 as torch.
            _lambdaTable[i] = MathF.Log(MathF.Sqrt(_alphasCumprod[i])) - MathF.Log(MathF.Sqrt(1f - _alphasCumprod[i]));
        }

        _solverOrder = config.GetInt32("solver_order", 2);
        if (_solverOrder is < 1 or > MaxOrder)
        {
            throw new ArgumentException($"solver_order must be between 1 and {MaxOrder} for {ClassName} but was {_solverOrder}", nameof(config));
        }

        _predictionType = PredictionTypes.Read(config, ClassName, allowSample: true);
        var algorithm = config.GetString("algorithm_type", "dpmsolver++");
        // diffusers maps DEIS configs onto DPM-Solver++ when switching schedulers.
        if (algorithm == "deis") algorithm = "dpmsolver++";
        _sde = ScheduleMath.OneOf("algorithm_type", algorithm, ClassName, "dpmsolver++", "sde-dpmsolver++") == "sde-dpmsolver++";
        var solverType = config.GetString("solver_type", "midpoint");
        // UniPC/DEIS solver types map to midpoint, as diffusers does on from_config.
        if (solverType is "logrho" or "bh1" or "bh2") solverType = "midpoint";
        _heun = ScheduleMath.OneOf("solver_type", solverType, ClassName, "midpoint", "heun") == "heun";
        _lowerOrderFinal = config.GetBoolean("lower_order_final", true);
        _eulerAtFinal = config.GetBoolean("euler_at_final", false);
        _useKarrasSigmas = config.GetBoolean("use_karras_sigmas", false);
        _useExponentialSigmas = config.GetBoolean("use_exponential_sigmas", false);
        _useLuLambdas = config.GetBoolean("use_lu_lambdas", false);
        if ((_useKarrasSigmas ? 1 : 0) + (_useExponentialSigmas ? 1 : 0) > 1)
        {
            throw new ArgumentException("only one of use_karras_sigmas and use_exponential_sigmas can be true", nameof(config));
        }

        _thresholding = config.GetBoolean("thresholding", false);
        _dynamicThresholdingRatio = config.GetDouble("dynamic_thresholding_ratio", 0.995);
        _sampleMaxValue = config.GetDouble("sample_max_value", 1.0);
        foreach (var unsupported in (string[])["use_beta_sigmas", "use_flow_sigmas", "use_dynamic_shifting"])
        {
            if (config.GetBoolean(unsupported, false)) throw new ArgumentException($"{unsupported} is not supported by {ClassName} here", nameof(config));
        }

        if (config.Contains("variance_type"))
        {
            throw new ArgumentException($"variance_type (learned variance channels) is not supported by {ClassName} here", nameof(config));
        }

        _finalSigmaIsZero = ScheduleMath.OneOf("final_sigmas_type", config.GetString("final_sigmas_type", "zero"), ClassName, "zero", "sigma_min") == "zero";
        _lambdaMinClipped = config.GetDouble("lambda_min_clipped", double.NegativeInfinity);
        _timestepSpacing = ScheduleMath.OneOf("timestep_spacing", config.GetString("timestep_spacing", "linspace"), ClassName, "linspace", "leading", "trailing");
        _stepsOffset = config.GetInt32("steps_offset", 0);
    }

    /// <summary>Training timesteps of the model (num_train_timesteps).</summary>
    public int NumTrainTimesteps { get; }

    /// <summary>Whether the schedule uses Karras sigmas (use_karras_sigmas).</summary>
    public bool UseKarrasSigmas => _useKarrasSigmas;

    /// <summary>
    /// How many images the sample span holds (default 1). Only dynamic thresholding (thresholding = true) uses it: its
    /// quantile is taken per image.
    /// </summary>
    public int BatchSize { get; set; } = 1;

    /// <summary>The noise levels, one per timestep plus the final one (zero or sigma_min).</summary>
    public IReadOnlyList<float> Sigmas => Array.AsReadOnly(_sigmas);

    /// <inheritdoc />
    public IReadOnlyList<float> Timesteps => _timestepValues;

    /// <inheritdoc />
    public float InitNoiseSigma => 1f;

    /// <inheritdoc />
    public void SetTimesteps(int numInferenceSteps)
    {
        if (numInferenceSteps < 1 || numInferenceSteps > NumTrainTimesteps)
        {
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"numInferenceSteps must be between 1 and num_train_timesteps ({NumTrainTimesteps}) but was {numInferenceSteps}");
        }

        var n = numInferenceSteps;
        // 1. Clip the schedule where λ drops below lambda_min_clipped (searchsorted on the ascending flipped λ table).
        var clippedIndex = 0;
        for (var i = _lambdaTable.Length - 1; i >= 0 && _lambdaTable[i] < _lambdaMinClipped; i--) clippedIndex++;
        var lastTimestep = NumTrainTimesteps - clippedIndex;

        // 2. Integer timesteps by spacing: n + 1 points with the final 0 dropped.
        double[] timesteps;
        switch (_timestepSpacing)
        {
            case "linspace":
                var line = ScheduleMath.Linspace(0, lastTimestep - 1, n + 1);
                timesteps = new double[n];
                for (var i = 0; i < n; i++) timesteps[i] = ScheduleMath.Round(line[n - i]);
                break;
            case "leading":
                var ratio = lastTimestep / (n + 1);
                timesteps = new double[n];
                for (var i = 0; i < n; i++) timesteps[i] = (double)(n - i) * ratio + _stepsOffset;
                break;
            default: // trailing
                timesteps = ScheduleMath.Arange(lastTimestep, 0, -(double)NumTrainTimesteps / n);
                for (var i = 0; i < timesteps.Length; i++) timesteps[i] = ScheduleMath.Round(timesteps[i]) - 1;
                break;
        }

        // 3. Sigmas: Karras / exponential / λ-uniform re-spacing between the table's extremes, else interpolation.
        double[] sigmas;
        if (_useKarrasSigmas || _useExponentialSigmas || _useLuLambdas)
        {
            var logSigmas = ScheduleMath.LogSigmas(_sigmaTable);
            double sigmaMin = _sigmaTable[0], sigmaMax = _sigmaTable[^1];
            if (_useKarrasSigmas)
            {
                sigmas = ScheduleMath.KarrasSigmas(sigmaMin, sigmaMax, n);
            }
            else
            {
                // Exponential sigmas and Lu's λ-uniform steps are both evenly spaced in ln σ.
                var from = _useLuLambdas ? logSigmas[^1] : Math.Log(sigmaMax);
                var to = _useLuLambdas ? logSigmas[0] : Math.Log(sigmaMin);
                sigmas = ScheduleMath.Linspace(from, to, n);
                for (var i = 0; i < n; i++) sigmas[i] = Math.Exp(sigmas[i]);
            }

            // Karras and λ-uniform timesteps are rounded (except for the cosine schedule); exponential ones are not.
            var round = (_useKarrasSigmas || _useLuLambdas) && !_cosineSchedule;
            timesteps = new double[n];
            for (var i = 0; i < n; i++)
            {
                var t = ScheduleMath.SigmaToT(sigmas[i], logSigmas);
                // int64 conversion truncates what is not rounded.
                timesteps[i] = round ? ScheduleMath.Round(t) : Math.Truncate(t);
            }
        }
        else
        {
            sigmas = new double[timesteps.Length];
            for (var i = 0; i < sigmas.Length; i++) sigmas[i] = ScheduleMath.Interp(timesteps[i], _sigmaTable);
        }

        // 4. Final sigma: 0, or the table's smallest sigma.
        _sigmas = new float[sigmas.Length + 1];
        for (var i = 0; i < sigmas.Length; i++) _sigmas[i] = (float)sigmas[i];
        _sigmas[^1] = _finalSigmaIsZero ? 0f : ScheduleMath.SigmaOf(_alphasCumprod[0]);

        var values = new float[timesteps.Length];
        for (var i = 0; i < values.Length; i++) values[i] = (float)timesteps[i];
        _timestepValues = Array.AsReadOnly(values);
        _newest = -1;
        _lowerOrderNums = 0;
    }

    /// <summary>DPM-Solver needs no input scaling: the sample is left as is.</summary>
    public void ScaleModelInput(Span<float> sample, int stepIndex) => CheckStepIndex(stepIndex);

    /// <inheritdoc />
    /// <remarks>sde-dpmsolver++ draws sample-sized noise from <paramref name="noise"/> every step; with none it is zero.</remarks>
    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, INoiseSource? noise = null)
    {
        CheckStepIndex(stepIndex);
        if (modelOutput.Length != sample.Length)
        {
            throw new ArgumentException($"modelOutput has {modelOutput.Length} values but sample has {sample.Length}", nameof(modelOutput));
        }

        EnsureBuffers(sample.Length);
        var count = _timestepValues.Count;
        // Lower orders at the end stabilise few-step sampling (and the final step to σ = 0 must be first order).
        var lowerOrderFinal = stepIndex == count - 1 && (_eulerAtFinal || (_lowerOrderFinal && count < 15) || _finalSigmaIsZero);
        var lowerOrderSecond = stepIndex == count - 2 && _lowerOrderFinal && count < 15;

        // 1. Convert the model output to a data prediction x0 and push it into the history.
        _newest = (_newest + 1) % MaxOrder;
        ConvertModelOutput(modelOutput, stepIndex, sample, _modelOutputs[_newest]);

        Span<float> z = default;
        if (_sde)
        {
            z = NoiseBuffer(sample.Length);
            if (noise is null) z.Clear();
            else noise.Fill(z);
        }

        // 2. Multistep update of the order the history allows.
        if (_solverOrder == 1 || _lowerOrderNums < 1 || lowerOrderFinal) FirstOrderUpdate(stepIndex, sample, z);
        else if (_solverOrder == 2 || _lowerOrderNums < 2 || lowerOrderSecond) SecondOrderUpdate(stepIndex, sample, z);
        else ThirdOrderUpdate(stepIndex, sample, z);

        if (_lowerOrderNums < _solverOrder) _lowerOrderNums++;
    }

    /// <summary>Forward diffusion in VP form: α_t·x + σ_t·ε at the sigma of step <paramref name="stepIndex"/>, in place.</summary>
    public void AddNoise(Span<float> sample, ReadOnlySpan<float> noise, int stepIndex)
    {
        CheckStepIndex(stepIndex);
        if (noise.Length != sample.Length) throw new ArgumentException($"noise has {noise.Length} values but sample has {sample.Length}", nameof(noise));
        var sigma = _sigmas[stepIndex];
        var alphaT = 1f / MathF.Sqrt(sigma * sigma + 1f);
        TensorPrimitives.Multiply(sample, alphaT, sample);
        TensorPrimitives.MultiplyAdd(noise, sigma * alphaT, sample, sample);
    }

    /// <summary>α_t = 1/sqrt(σ² + 1), σ_t = σ·α_t, λ = ln α_t − ln σ_t.</summary>
    private (double Alpha, double Sigma, double Lambda) AlphaSigmaLambda(int index)
    {
        double sigma = _sigmas[index];
        var alpha = 1 / Math.Sqrt(sigma * sigma + 1);
        var sigmaT = sigma * alpha;
        return (alpha, sigmaT, Math.Log(alpha) - Math.Log(sigmaT));
    }

    private void ConvertModelOutput(ReadOnlySpan<float> modelOutput, int stepIndex, ReadOnlySpan<float> sample, Span<float> x0)
    {
        var (alpha, sigma, _) = AlphaSigmaLambda(stepIndex);
        switch (_predictionType)
        {
            case PredictionType.Epsilon:
                for (var i = 0; i < x0.Length; i++) x0[i] = (float)((sample[i] - sigma * modelOutput[i]) / alpha);
                break;
            case PredictionType.VPrediction:
                for (var i = 0; i < x0.Length; i++) x0[i] = (float)(alpha * sample[i] - sigma * modelOutput[i]);
                break;
            default:
                modelOutput.CopyTo(x0);
                break;
        }

        if (_thresholding) ScheduleMath.DynamicThreshold(x0, BatchSize, _dynamicThresholdingRatio, _sampleMaxValue, _thresholdScratch);
    }

    private void FirstOrderUpdate(int stepIndex, Span<float> sample, ReadOnlySpan<float> z)
    {
        var (alphaT, sigmaT, lambdaT) = AlphaSigmaLambda(stepIndex + 1);
        var (_, sigmaS, lambdaS) = AlphaSigmaLambda(stepIndex);
        var h = lambdaT - lambdaS;
        var m0 = _modelOutputs[_newest];
        if (!_sde)
        {
            // DPM-Solver++(1): x_t = (σ_t/σ_s)·x − α_t(e^{−h} − 1)·x0.
            var sampleCoeff = sigmaT / sigmaS;
            var outputCoeff = alphaT * (Math.Exp(-h) - 1);
            for (var i = 0; i < sample.Length; i++) sample[i] = (float)(sampleCoeff * sample[i] - outputCoeff * m0[i]);
        }
        else
        {
            var sampleCoeff = sigmaT / sigmaS * Math.Exp(-h);
            var outputCoeff = alphaT * (1 - Math.Exp(-2 * h));
            var noiseCoeff = sigmaT * Math.Sqrt(1 - Math.Exp(-2 * h));
            for (var i = 0; i < sample.Length; i++) sample[i] = (float)(sampleCoeff * sample[i] + outputCoeff * m0[i] + noiseCoeff * z[i]);
        }
    }

    private void SecondOrderUpdate(int stepIndex, Span<float> sample, ReadOnlySpan<float> z)
    {
        var (alphaT, sigmaT, lambdaT) = AlphaSigmaLambda(stepIndex + 1);
        var (_, sigmaS0, lambdaS0) = AlphaSigmaLambda(stepIndex);
        var (_, _, lambdaS1) = AlphaSigmaLambda(stepIndex - 1);
        var m0 = _modelOutputs[_newest];
        var m1 = _modelOutputs[(_newest + MaxOrder - 1) % MaxOrder];
        var h = lambdaT - lambdaS0;
        var h0 = lambdaS0 - lambdaS1;
        var r0 = h0 / h;
        // D1 = (m0 − m1)/r0; a zero-length step (h = 0) gives r0 = ∞ and D1 = 0, as in torch.
        var d1Scale = 1.0 / r0;
        double sampleCoeff, d0Coeff, d1Coeff, noiseCoeff = 0;
        if (!_sde)
        {
            sampleCoeff = sigmaT / sigmaS0;
            var phi = alphaT * (Math.Exp(-h) - 1);
            d0Coeff = -phi;
            // midpoint: −½α_t(e^{−h} − 1)·D1; heun: +α_t((e^{−h} − 1)/h + 1)·D1.
            d1Coeff = _heun ? alphaT * ((Math.Exp(-h) - 1) / h + 1) : -0.5 * phi;
        }
        else
        {
            sampleCoeff = sigmaT / sigmaS0 * Math.Exp(-h);
            var phi = alphaT * (1 - Math.Exp(-2 * h));
            d0Coeff = phi;
            d1Coeff = _heun ? alphaT * ((1 - Math.Exp(-2 * h)) / (-2 * h) + 1) : 0.5 * phi;
            noiseCoeff = sigmaT * Math.Sqrt(1 - Math.Exp(-2 * h));
        }

        for (var i = 0; i < sample.Length; i++)
        {
            double d0 = m0[i];
            var d1 = d1Scale * (m0[i] - m1[i]);
            var x = sampleCoeff * sample[i] + d0Coeff * d0 + d1Coeff * d1;
            if (_sde) x += noiseCoeff * z[i];
            sample[i] = (float)x;
        }
    }

    private void ThirdOrderUpdate(int stepIndex, Span<float> sample, ReadOnlySpan<float> z)
    {
        var (alphaT, sigmaT, lambdaT) = AlphaSigmaLambda(stepIndex + 1);
        var (_, sigmaS0, lambdaS0) = AlphaSigmaLambda(stepIndex);
        var (_, _, lambdaS1) = AlphaSigmaLambda(stepIndex - 1);
        var (_, _, lambdaS2) = AlphaSigmaLambda(stepIndex - 2);
        var m0 = _modelOutputs[_newest];
        var m1 = _modelOutputs[(_newest + MaxOrder - 1) % MaxOrder];
        var m2 = _modelOutputs[(_newest + MaxOrder - 2) % MaxOrder];
        var h = lambdaT - lambdaS0;
        var r0 = (lambdaS0 - lambdaS1) / h;
        var r1 = (lambdaS1 - lambdaS2) / h;
        double sampleCoeff, d0Coeff, d1Coeff, d2Coeff, noiseCoeff = 0;
        if (!_sde)
        {
            sampleCoeff = sigmaT / sigmaS0;
            d0Coeff = -alphaT * (Math.Exp(-h) - 1);
            d1Coeff = alphaT * ((Math.Exp(-h) - 1) / h + 1);
            d2Coeff = -alphaT * ((Math.Exp(-h) - 1 + h) / (h * h) - 0.5);
        }
        else
        {
            sampleCoeff = sigmaT / sigmaS0 * Math.Exp(-h);
            d0Coeff = alphaT * (1 - Math.Exp(-2 * h));
            d1Coeff = alphaT * ((1 - Math.Exp(-2 * h)) / (-2 * h) + 1);
            d2Coeff = alphaT * ((1 - Math.Exp(-2 * h) - 2 * h) / (4 * h * h) - 0.5);
            noiseCoeff = sigmaT * Math.Sqrt(1 - Math.Exp(-2 * h));
        }

        for (var i = 0; i < sample.Length; i++)
        {
            // D1_0 = (m0 − m1)/r0, D1_1 = (m1 − m2)/r1, D1 = D1_0 + r0/(r0 + r1)·(D1_0 − D1_1), D2 = (D1_0 − D1_1)/(r0 + r1).
            var d10 = (m0[i] - (double)m1[i]) / r0;
            var d11 = (m1[i] - (double)m2[i]) / r1;
            var d1 = d10 + r0 / (r0 + r1) * (d10 - d11);
            var d2 = (d10 - d11) / (r0 + r1);
            var x = sampleCoeff * sample[i] + d0Coeff * m0[i] + d1Coeff * d1 + d2Coeff * d2;
            if (_sde) x += noiseCoeff * z[i];
            sample[i] = (float)x;
        }
    }

    private void EnsureBuffers(int length)
    {
        if (_modelOutputs[0] is not null && _modelOutputs[0].Length == length) return;
        if (_lowerOrderNums != 0) throw new ArgumentException($"sample has {length} values but earlier steps had {_modelOutputs[0].Length}");
        for (var i = 0; i < MaxOrder; i++) _modelOutputs[i] = new float[length];
        if (_thresholding) _thresholdScratch = new float[length];
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
