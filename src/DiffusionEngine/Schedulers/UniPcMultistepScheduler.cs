using System.Collections.ObjectModel;
using System.Numerics.Tensors;
using DiffusionEngine.Noise;

namespace DiffusionEngine.Schedulers;

/// <summary>
/// diffusers' <c>UniPCMultistepScheduler</c> (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework"):
/// each step first corrects the previous prediction with the new model output (UniC), then predicts the next sample
/// (UniP). Config keys: num_train_timesteps, beta_start, beta_end, beta_schedule, trained_betas, solver_order (1–3,
/// default 2), prediction_type (epsilon|sample|v_prediction), predict_x0, solver_type (bh1|bh2), lower_order_final,
/// disable_corrector, thresholding, dynamic_thresholding_ratio, sample_max_value, use_karras_sigmas, use_exponential_sigmas, sigma_min, sigma_max, timestep_spacing (default
/// linspace), steps_offset, final_sigmas_type (zero|sigma_min), rescale_betas_zero_snr.
/// History buffers are allocated on the first step and reused.
/// </summary>
public sealed class UniPcMultistepScheduler : IScheduler
{
    /// <summary>The diffusers class name.</summary>
    public const string ClassName = "UniPCMultistepScheduler";

    private const int MaxOrder = 3;

    private readonly float[] _alphasCumprod;
    private readonly float[] _sigmaTable;
    private readonly int _solverOrder;
    private readonly PredictionType _predictionType;
    private readonly bool _predictX0;
    private readonly bool _bh2;
    private readonly bool _lowerOrderFinal;
    private readonly int[] _disableCorrector;
    private readonly bool _useKarrasSigmas;
    private readonly bool _useExponentialSigmas;
    private readonly double? _sigmaMin;
    private readonly double? _sigmaMax;
    private readonly string _timestepSpacing;
    private readonly int _stepsOffset;
    private readonly bool _finalSigmaIsZero;
    private readonly bool _thresholding;
    private readonly double _dynamicThresholdingRatio;
    private readonly double _sampleMaxValue;

    private float[] _sigmas = [];
    private ReadOnlyCollection<float> _timestepValues = ReadOnlyCollection<float>.Empty;
    // model_outputs as a ring (newest at _newest), the current converted output, and last_sample.
    private readonly float[][] _modelOutputs = new float[MaxOrder][];
    private int _newest = -1;
    private float[]? _converted;
    private float[]? _lastSample;
    private bool _hasLastSample;
    private int _lowerOrderNums;
    private int _thisOrder;
    private float[]? _thresholdScratch;

    // Scratch for the small UniP/UniC linear systems (order ≤ 3), reused so stepping allocates nothing.
    private readonly double[] _rks = new double[MaxOrder];
    private readonly double[] _b = new double[MaxOrder];
    private readonly double[] _rhos = new double[MaxOrder];
    private readonly double[,] _matrix = new double[MaxOrder, MaxOrder];

    /// <summary>Builds the scheduler from a diffusers config; missing keys take UniPCMultistepScheduler's defaults.</summary>
    /// <exception cref="ArgumentException">A key has a value this scheduler does not support.</exception>
    public UniPcMultistepScheduler(SchedulerConfig config)
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

        _solverOrder = config.GetInt32("solver_order", 2);
        if (_solverOrder is < 1 or > MaxOrder)
        {
            throw new ArgumentException($"solver_order must be between 1 and {MaxOrder} for {ClassName} but was {_solverOrder}", nameof(config));
        }

        _predictionType = PredictionTypes.Read(config, ClassName, allowSample: true);
        _predictX0 = config.GetBoolean("predict_x0", true);
        var solverType = config.GetString("solver_type", "bh2");
        // DPM-Solver/DEIS solver types map to bh2, as diffusers does on from_config.
        if (solverType is "midpoint" or "heun" or "logrho") solverType = "bh2";
        _bh2 = ScheduleMath.OneOf("solver_type", solverType, ClassName, "bh1", "bh2") == "bh2";
        _lowerOrderFinal = config.GetBoolean("lower_order_final", true);
        _disableCorrector = config.GetInt32Array("disable_corrector");
        _useKarrasSigmas = config.GetBoolean("use_karras_sigmas", false);
        _useExponentialSigmas = config.GetBoolean("use_exponential_sigmas", false);
        if (_useKarrasSigmas && _useExponentialSigmas)
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

        _sigmaMin = config.GetNullableDouble("sigma_min");
        _sigmaMax = config.GetNullableDouble("sigma_max");
        _timestepSpacing = ScheduleMath.OneOf("timestep_spacing", config.GetString("timestep_spacing", "linspace"), ClassName, "linspace", "leading", "trailing");
        _stepsOffset = config.GetInt32("steps_offset", 0);
        _finalSigmaIsZero = ScheduleMath.OneOf("final_sigmas_type", config.GetString("final_sigmas_type", "zero"), ClassName, "zero", "sigma_min") == "zero";
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
        // 1. Integer timesteps by spacing: n + 1 points with the final 0 dropped.
        double[] timesteps;
        switch (_timestepSpacing)
        {
            case "linspace":
                var line = ScheduleMath.Linspace(0, NumTrainTimesteps - 1, n + 1);
                timesteps = new double[n];
                for (var i = 0; i < n; i++) timesteps[i] = ScheduleMath.Round(line[n - i]);
                break;
            case "leading":
                var ratio = NumTrainTimesteps / (n + 1);
                timesteps = new double[n];
                for (var i = 0; i < n; i++) timesteps[i] = (double)(n - i) * ratio + _stepsOffset;
                break;
            default: // trailing
                timesteps = ScheduleMath.Arange(NumTrainTimesteps, 0, -(double)NumTrainTimesteps / n);
                for (var i = 0; i < timesteps.Length; i++) timesteps[i] = ScheduleMath.Round(timesteps[i]) - 1;
                break;
        }

        // 2. Sigmas; Karras/exponential ones end at their own smallest sigma, interpolated ones at the table's.
        double[] sigmas;
        double sigmaLast;
        if (_useKarrasSigmas || _useExponentialSigmas)
        {
            var logSigmas = ScheduleMath.LogSigmas(_sigmaTable);
            var sigmaMin = _sigmaMin ?? _sigmaTable[0];
            var sigmaMax = _sigmaMax ?? _sigmaTable[^1];
            if (_useKarrasSigmas)
            {
                sigmas = ScheduleMath.KarrasSigmas(sigmaMin, sigmaMax, n);
            }
            else
            {
                sigmas = ScheduleMath.Linspace(Math.Log(sigmaMax), Math.Log(sigmaMin), n);
                for (var i = 0; i < n; i++) sigmas[i] = Math.Exp(sigmas[i]);
            }

            timesteps = new double[n];
            for (var i = 0; i < n; i++)
            {
                var t = ScheduleMath.SigmaToT(sigmas[i], logSigmas);
                // Karras timesteps are rounded; exponential ones are truncated by the int64 conversion.
                timesteps[i] = _useKarrasSigmas ? ScheduleMath.Round(t) : Math.Truncate(t);
            }

            sigmaLast = _finalSigmaIsZero ? 0 : sigmas[^1];
        }
        else
        {
            sigmas = new double[timesteps.Length];
            for (var i = 0; i < sigmas.Length; i++) sigmas[i] = ScheduleMath.Interp(timesteps[i], _sigmaTable);
            sigmaLast = _finalSigmaIsZero ? 0 : ScheduleMath.SigmaOf(_alphasCumprod[0]);
        }

        _sigmas = new float[sigmas.Length + 1];
        for (var i = 0; i < sigmas.Length; i++) _sigmas[i] = (float)sigmas[i];
        _sigmas[^1] = (float)sigmaLast;

        var values = new float[timesteps.Length];
        for (var i = 0; i < values.Length; i++) values[i] = (float)timesteps[i];
        _timestepValues = Array.AsReadOnly(values);
        _newest = -1;
        _lowerOrderNums = 0;
        _hasLastSample = false;
    }

    /// <summary>UniPC needs no input scaling: the sample is left as is.</summary>
    public void ScaleModelInput(Span<float> sample, int stepIndex) => CheckStepIndex(stepIndex);

    /// <inheritdoc />
    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, INoiseSource? noise = null)
    {
        CheckStepIndex(stepIndex);
        if (modelOutput.Length != sample.Length)
        {
            throw new ArgumentException($"modelOutput has {modelOutput.Length} values but sample has {sample.Length}", nameof(modelOutput));
        }

        EnsureBuffers(sample.Length);
        var useCorrector = stepIndex > 0 && Array.IndexOf(_disableCorrector, stepIndex - 1) < 0 && _hasLastSample;

        // 1. Convert the model output (x0 or ε) at this step's sigma.
        ConvertModelOutput(modelOutput, stepIndex, sample, _converted!);

        // 2. UniC: correct the sample the previous predictor produced, using the new model output.
        if (useCorrector) Corrector(stepIndex, sample);

        // 3. Push the converted output into the history (swap buffers: no copy, no allocation).
        _newest = (_newest + 1) % _solverOrder;
        (_modelOutputs[_newest], _converted) = (_converted!, _modelOutputs[_newest]);

        // 4. Order of this step: warm-up from 1, and (lower_order_final) lower orders for the last steps.
        var order = _lowerOrderFinal ? Math.Min(_solverOrder, _timestepValues.Count - stepIndex) : _solverOrder;
        _thisOrder = Math.Min(order, _lowerOrderNums + 1);
        sample.CopyTo(_lastSample);
        _hasLastSample = true;

        // 5. UniP: predict the next sample.
        Predictor(stepIndex, sample);
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

    private void ConvertModelOutput(ReadOnlySpan<float> modelOutput, int stepIndex, ReadOnlySpan<float> sample, Span<float> converted)
    {
        var (alpha, sigma, _) = AlphaSigmaLambda(stepIndex);
        switch (_predictX0, _predictionType)
        {
            case (true, PredictionType.Epsilon):
                for (var i = 0; i < converted.Length; i++) converted[i] = (float)((sample[i] - sigma * modelOutput[i]) / alpha);
                break;
            case (true, PredictionType.VPrediction):
                for (var i = 0; i < converted.Length; i++) converted[i] = (float)(alpha * sample[i] - sigma * modelOutput[i]);
                break;
            case (false, PredictionType.Sample):
                for (var i = 0; i < converted.Length; i++) converted[i] = (float)((sample[i] - alpha * modelOutput[i]) / sigma);
                break;
            case (false, PredictionType.VPrediction):
                for (var i = 0; i < converted.Length; i++) converted[i] = (float)(alpha * modelOutput[i] + sigma * sample[i]);
                break;
            default: // x0 from "sample", or ε from "epsilon": the output as is.
                modelOutput.CopyTo(converted);
                break;
        }

        if (_thresholding && _predictX0) ScheduleMath.DynamicThreshold(converted, BatchSize, _dynamicThresholdingRatio, _sampleMaxValue, _thresholdScratch);
    }

    /// <summary>The model output <paramref name="age"/> steps back in the history (0 = newest).</summary>
    private float[] History(int age) => _modelOutputs[(_newest - age + 2 * _solverOrder) % _solverOrder];

    /// <summary>
    /// Fills _rks (r_1..r_{K−1}, then 1) and _b for an order-K update over step length h, and returns h·φ_1 and B(h).
    /// b_k = k!·h φ_{k+1}(h)/B(h) with B(h) = h (bh1) or e^h − 1 (bh2), h taken negative for data prediction.
    /// </summary>
    private (double HPhi1, double Bh) Coefficients(int order, double h)
    {
        var hh = _predictX0 ? -h : h;
        var hPhi1 = ExpM1(hh);
        var hPhiK = hPhi1 / hh - 1;
        var factorial = 1.0;
        var bh = _bh2 ? ExpM1(hh) : hh;
        for (var i = 1; i <= order; i++)
        {
            _b[i - 1] = hPhiK * factorial / bh;
            factorial *= i + 1;
            hPhiK = hPhiK / hh - 1 / factorial;
        }

        return (hPhi1, bh);
    }

    private void Predictor(int stepIndex, Span<float> sample)
    {
        var order = _thisOrder;
        var (alphaT, sigmaT, lambdaT) = AlphaSigmaLambda(stepIndex + 1);
        var (alphaS0, sigmaS0, lambdaS0) = AlphaSigmaLambda(stepIndex);
        var h = lambdaT - lambdaS0;
        for (var k = 1; k < order; k++) _rks[k - 1] = (AlphaSigmaLambda(stepIndex - k).Lambda - lambdaS0) / h;
        _rks[order - 1] = 1;
        var (hPhi1, bh) = Coefficients(order, h);

        // ρ_p: 0.5 for order 2, else the solution of R[:-1, :-1]·ρ = b[:-1].
        var terms = order - 1;
        if (order == 2) _rhos[0] = 0.5;
        else if (terms > 0) Solve(terms);

        var m0 = History(0);
        double sampleCoeff, outputCoeff, residualCoeff;
        if (_predictX0)
        {
            sampleCoeff = sigmaT / sigmaS0;
            outputCoeff = alphaT * hPhi1;
            residualCoeff = alphaT * bh;
        }
        else
        {
            sampleCoeff = alphaT / alphaS0;
            outputCoeff = sigmaT * hPhi1;
            residualCoeff = sigmaT * bh;
        }

        // Σ_k ρ_k·D_k with D_k = (m_{i−k} − m_i)/r_k, over at most two past outputs (order ≤ 3).
        var (m1, c1) = terms > 0 ? (History(1), _rhos[0] / _rks[0]) : (m0, 0.0);
        var (m2, c2) = terms > 1 ? (History(2), _rhos[1] / _rks[1]) : (m0, 0.0);
        for (var i = 0; i < sample.Length; i++)
        {
            double m = m0[i];
            var residual = c1 * (m1[i] - m) + c2 * (m2[i] - m);
            sample[i] = (float)(sampleCoeff * sample[i] - outputCoeff * m - residualCoeff * residual);
        }
    }

    private void Corrector(int stepIndex, Span<float> sample)
    {
        // The previous step's order; its predictor started from last_sample at stepIndex − 1.
        var order = _thisOrder;
        var (alphaT, sigmaT, lambdaT) = AlphaSigmaLambda(stepIndex);
        var (alphaS0, sigmaS0, lambdaS0) = AlphaSigmaLambda(stepIndex - 1);
        var h = lambdaT - lambdaS0;
        for (var k = 1; k < order; k++) _rks[k - 1] = (AlphaSigmaLambda(stepIndex - (k + 1)).Lambda - lambdaS0) / h;
        _rks[order - 1] = 1;
        var (hPhi1, bh) = Coefficients(order, h);

        // ρ_c: 0.5 for order 1, else the solution of R·ρ = b.
        if (order == 1) _rhos[0] = 0.5;
        else Solve(order);

        var m0 = History(0);
        var modelT = _converted!;
        var last = _lastSample!;
        double sampleCoeff, outputCoeff, residualCoeff;
        if (_predictX0)
        {
            sampleCoeff = sigmaT / sigmaS0;
            outputCoeff = alphaT * hPhi1;
            residualCoeff = alphaT * bh;
        }
        else
        {
            sampleCoeff = alphaT / alphaS0;
            outputCoeff = sigmaT * hPhi1;
            residualCoeff = sigmaT * bh;
        }

        // Σ_k ρ_k·D_k over the older outputs (at most two), plus ρ_last·(m_t − m0) for the new one.
        var rhoLast = _rhos[order - 1];
        var (m1, c1) = order > 1 ? (History(1), _rhos[0] / _rks[0]) : (m0, 0.0);
        var (m2, c2) = order > 2 ? (History(2), _rhos[1] / _rks[1]) : (m0, 0.0);
        for (var i = 0; i < sample.Length; i++)
        {
            double m = m0[i];
            var residual = c1 * (m1[i] - m) + c2 * (m2[i] - m) + rhoLast * (modelT[i] - m);
            sample[i] = (float)(sampleCoeff * last[i] - outputCoeff * m - residualCoeff * residual);
        }
    }

    /// <summary>Solves R·ρ = b for the top-left <paramref name="size"/> block, R[j, k] = r_k^j (Gaussian elimination, partial pivoting).</summary>
    private void Solve(int size)
    {
        for (var row = 0; row < size; row++)
        {
            for (var col = 0; col < size; col++) _matrix[row, col] = Math.Pow(_rks[col], row);
            _rhos[row] = _b[row];
        }

        for (var pivot = 0; pivot < size; pivot++)
        {
            var best = pivot;
            for (var row = pivot + 1; row < size; row++)
            {
                if (Math.Abs(_matrix[row, pivot]) > Math.Abs(_matrix[best, pivot])) best = row;
            }

            if (best != pivot)
            {
                for (var col = 0; col < size; col++) (_matrix[pivot, col], _matrix[best, col]) = (_matrix[best, col], _matrix[pivot, col]);
                (_rhos[pivot], _rhos[best]) = (_rhos[best], _rhos[pivot]);
            }

            for (var row = pivot + 1; row < size; row++)
            {
                var factor = _matrix[row, pivot] / _matrix[pivot, pivot];
                for (var col = pivot; col < size; col++) _matrix[row, col] -= factor * _matrix[pivot, col];
                _rhos[row] -= factor * _rhos[pivot];
            }
        }

        for (var row = size - 1; row >= 0; row--)
        {
            var sum = _rhos[row];
            for (var col = row + 1; col < size; col++) sum -= _matrix[row, col] * _rhos[col];
            _rhos[row] = sum / _matrix[row, row];
        }
    }

    /// <summary>e^x − 1 without cancellation for small |x| (torch.expm1), by Kahan's u − 1 = (u − 1)·x/ln u correction.</summary>
    private static double ExpM1(double x)
    {
        var u = Math.Exp(x);
        if (u == 1.0) return x;
        var um1 = u - 1.0;
        return um1 == -1.0 ? -1.0 : um1 * x / Math.Log(u);
    }

    private void EnsureBuffers(int length)
    {
        if (_converted is not null && _converted.Length == length) return;
        if (_lowerOrderNums != 0) throw new ArgumentException($"sample has {length} values but earlier steps had {_converted!.Length}");
        for (var i = 0; i < MaxOrder; i++) _modelOutputs[i] = new float[length];
        _converted = new float[length];
        _lastSample = new float[length];
        if (_thresholding) _thresholdScratch = new float[length];
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
