using System.Collections.ObjectModel;
using System.Numerics.Tensors;
using DiffusionEngine.Noise;

namespace DiffusionEngine.Schedulers;

/// <summary>
/// diffusers' <c>LMSDiscreteScheduler</c> (k-diffusion's sample_lms): a linear multistep method of order up to 4 on
/// the probability-flow ODE in sigma, with coefficients integrating the Lagrange basis over [σ_i, σ_{i+1}].
/// Config keys: num_train_timesteps, beta_start, beta_end, beta_schedule, trained_betas, use_karras_sigmas,
/// use_exponential_sigmas, prediction_type (epsilon|sample|v_prediction), timestep_spacing (default linspace),
/// steps_offset. The last four derivatives live in buffers allocated on the first step and reused.
/// </summary>
public sealed class LmsDiscreteScheduler : IScheduler
{
    /// <summary>The diffusers class name.</summary>
    public const string ClassName = "LMSDiscreteScheduler";

    private const int MaxOrder = 4;

    // Gauss–Legendre nodes and weights on [−1, 1]; 3 points integrate the degree-≤3 Lagrange basis exactly.
    private static readonly double[] GaussNodes = [-Math.Sqrt(0.6), 0.0, Math.Sqrt(0.6)];
    private static readonly double[] GaussWeights = [5.0 / 9.0, 8.0 / 9.0, 5.0 / 9.0];

    private readonly float[] _sigmaTable;
    private readonly PredictionType _predictionType;
    private readonly bool _useKarrasSigmas;
    private readonly bool _useExponentialSigmas;
    private readonly string _timestepSpacing;
    private readonly int _stepsOffset;

    private float[] _sigmas = [];
    private ReadOnlyCollection<float> _timestepValues = ReadOnlyCollection<float>.Empty;
    private readonly float[][] _derivatives = new float[MaxOrder][];
    private int _derivativeCount;
    private int _derivativeNewest = -1;
    private readonly double[] _coefficients = new double[MaxOrder];

    /// <summary>Builds the scheduler from a diffusers config; missing keys take LMSDiscreteScheduler's defaults.</summary>
    /// <exception cref="ArgumentException">A key has a value this scheduler does not support.</exception>
    public LmsDiscreteScheduler(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        NumTrainTimesteps = config.GetInt32("num_train_timesteps", 1000);
        var betas = ScheduleMath.Betas(config, ClassName, 0.0001, 0.02, "linear");
        _sigmaTable = ScheduleMath.SigmaTable(ScheduleMath.AlphasCumprod(betas));
        _predictionType = PredictionTypes.Read(config, ClassName, allowSample: true);
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

        _timestepSpacing = ScheduleMath.OneOf("timestep_spacing", config.GetString("timestep_spacing", "linspace"), ClassName, "linspace", "leading", "trailing");
        _stepsOffset = config.GetInt32("steps_offset", 0);
    }

    /// <summary>Training timesteps of the model (num_train_timesteps).</summary>
    public int NumTrainTimesteps { get; }

    /// <summary>Whether the schedule uses Karras sigmas (use_karras_sigmas).</summary>
    public bool UseKarrasSigmas => _useKarrasSigmas;

    /// <summary>The multistep order (diffusers' step(order=4)), 1 to 4.</summary>
    public int Order
    {
        get;
        init => field = value is >= 1 and <= MaxOrder ? value : throw new ArgumentOutOfRangeException(nameof(Order), value, $"Order must be between 1 and {MaxOrder} but was {value}");
    } = MaxOrder;

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

        var sigmas = new double[timesteps.Length];
        for (var i = 0; i < sigmas.Length; i++) sigmas[i] = ScheduleMath.Interp(timesteps[i], _sigmaTable);

        if (_useKarrasSigmas || _useExponentialSigmas)
        {
            // Re-space between the interpolated extremes; timesteps follow the sigmas (fractional, not rounded).
            sigmas = _useKarrasSigmas
                ? ScheduleMath.KarrasSigmas(sigmas[^1], sigmas[0], n)
                : ExponentialSigmas(sigmas[^1], sigmas[0], n);
            var logSigmas = ScheduleMath.LogSigmas(_sigmaTable);
            timesteps = new float[n];
            for (var i = 0; i < n; i++) timesteps[i] = (float)ScheduleMath.SigmaToT(sigmas[i], logSigmas);
        }

        _sigmas = new float[sigmas.Length + 1];
        for (var i = 0; i < sigmas.Length; i++) _sigmas[i] = (float)sigmas[i];
        _timestepValues = Array.AsReadOnly(timesteps);
        _derivativeCount = 0;
        _derivativeNewest = -1;
    }

    /// <summary>Scales the UNet input by 1/sqrt(σ² + 1), in place.</summary>
    public void ScaleModelInput(Span<float> sample, int stepIndex)
    {
        CheckStepIndex(stepIndex);
        var sigma = _sigmas[stepIndex];
        TensorPrimitives.Divide(sample, MathF.Sqrt(sigma * sigma + 1f), sample);
    }

    /// <inheritdoc />
    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, INoiseSource? noise = null)
    {
        CheckStepIndex(stepIndex);
        if (modelOutput.Length != sample.Length)
        {
            throw new ArgumentException($"modelOutput has {modelOutput.Length} values but sample has {sample.Length}", nameof(modelOutput));
        }

        EnsureBuffers(sample.Length);
        var sigma = _sigmas[stepIndex];

        // 1. x0 from the model output; 2. derivative d = (x − x0)/σ, kept as the newest of the last four.
        _derivativeNewest = (_derivativeNewest + 1) % MaxOrder;
        _derivativeCount = Math.Min(_derivativeCount + 1, MaxOrder);
        var derivative = _derivatives[_derivativeNewest];
        var vOutputScale = -sigma / MathF.Sqrt(sigma * sigma + 1f);
        var vSampleScale = sigma * sigma + 1f;
        for (var i = 0; i < sample.Length; i++)
        {
            var x = sample[i];
            var x0 = _predictionType switch
            {
                PredictionType.Epsilon => x - sigma * modelOutput[i],
                PredictionType.VPrediction => modelOutput[i] * vOutputScale + x / vSampleScale,
                _ => modelOutput[i],
            };
            derivative[i] = (x - x0) / sigma;
        }

        // 3. Coefficients for order min(i + 1, Order); the sum stops at the stored derivatives (zip truncation).
        var order = Math.Min(stepIndex + 1, Order);
        for (var j = 0; j < order; j++) _coefficients[j] = LmsCoefficient(order, stepIndex, j);
        var terms = Math.Min(order, _derivativeCount);

        // 4. x_next = x + Σ_j c_j · d_{i−j}, newest first, accumulated in float32 as python's sum() over tensors does
        //    (absent terms contribute 0·d_i, which leaves every sum unchanged).
        var d0 = Derivative(0, terms);
        var d1 = Derivative(1, terms);
        var d2 = Derivative(2, terms);
        var d3 = Derivative(3, terms);
        var c0 = (float)_coefficients[0];
        var c1 = terms > 1 ? (float)_coefficients[1] : 0f;
        var c2 = terms > 2 ? (float)_coefficients[2] : 0f;
        var c3 = terms > 3 ? (float)_coefficients[3] : 0f;
        for (var i = 0; i < sample.Length; i++)
        {
            var sum = c0 * d0[i];
            sum += c1 * d1[i];
            sum += c2 * d2[i];
            sum += c3 * d3[i];
            sample[i] += sum;
        }
    }

    /// <summary>Forward diffusion in sigma form: x + ε·σ of step <paramref name="stepIndex"/>, in place.</summary>
    public void AddNoise(Span<float> sample, ReadOnlySpan<float> noise, int stepIndex)
    {
        CheckStepIndex(stepIndex);
        if (noise.Length != sample.Length) throw new ArgumentException($"noise has {noise.Length} values but sample has {sample.Length}", nameof(noise));
        TensorPrimitives.MultiplyAdd(noise, _sigmas[stepIndex], sample, sample);
    }

    /// <summary>
    /// ∫_{σ_t}^{σ_{t+1}} Π_{k≠j} (τ − σ_{t−k})/(σ_{t−j} − σ_{t−k}) dτ: the weight of the derivative j steps back.
    /// </summary>
    private double LmsCoefficient(int order, int t, int currentOrder)
    {
        double from = _sigmas[t];
        double to = _sigmas[t + 1];
        var half = (to - from) / 2;
        var mid = (to + from) / 2;
        var integral = 0.0;
        for (var q = 0; q < GaussNodes.Length; q++)
        {
            var tau = mid + half * GaussNodes[q];
            var product = 1.0;
            for (var k = 0; k < order; k++)
            {
                if (k == currentOrder) continue;
                product *= (tau - _sigmas[t - k]) / ((double)_sigmas[t - currentOrder] - _sigmas[t - k]);
            }

            integral += GaussWeights[q] * product;
        }

        return integral * half;
    }

    /// <summary>The derivative <paramref name="age"/> steps back, or the newest one when fewer than age + 1 are used.</summary>
    private float[] Derivative(int age, int terms) =>
        _derivatives[(_derivativeNewest - (age < terms ? age : 0) + MaxOrder) % MaxOrder];

    private static double[] ExponentialSigmas(double sigmaMin, double sigmaMax, int count)
    {
        // exp(linspace(ln σ_max, ln σ_min, n)): evenly spaced in log-sigma.
        var line = ScheduleMath.Linspace(Math.Log(sigmaMax), Math.Log(sigmaMin), count);
        for (var i = 0; i < count; i++) line[i] = Math.Exp(line[i]);
        return line;
    }

    private void EnsureBuffers(int length)
    {
        if (_derivatives[0] is not null && _derivatives[0].Length == length) return;
        if (_derivativeCount != 0) throw new ArgumentException($"sample has {length} values but earlier steps had {_derivatives[0].Length}");
        for (var i = 0; i < MaxOrder; i++) _derivatives[i] = new float[length];
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
