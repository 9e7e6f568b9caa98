using System.Collections.ObjectModel;
using System.Numerics.Tensors;
using DiffusionEngine.Noise;

namespace DiffusionEngine.Schedulers;

/// <summary>
/// diffusers' <c>PNDMScheduler</c> (Liu et al. 2022, "Pseudo Numerical Methods for Diffusion Models"): Runge–Kutta
/// (PRK) warm-up steps followed by linear multistep (PLMS) steps; with <c>skip_prk_steps</c> (SD 1.x configs) only
/// PLMS, warmed up as in crowsonkb's PLMS sampler. Config keys: num_train_timesteps, beta_start, beta_end,
/// beta_schedule, trained_betas, skip_prk_steps (default false), set_alpha_to_one (default false), prediction_type
/// (epsilon|v_prediction), timestep_spacing (default leading), steps_offset.
/// Buffers (past residuals, the PRK accumulator) are allocated on the first step and reused.
/// </summary>
public sealed class PndmScheduler : IScheduler
{
    /// <summary>The diffusers class name.</summary>
    public const string ClassName = "PNDMScheduler";

    // F-PNDM: fourth-order Runge–Kutta warm-up, fourth-order linear multistep.
    private const int PndmOrder = 4;

    private readonly float[] _alphasCumprod;
    private readonly float _finalAlphaCumprod;
    private readonly bool _skipPrkSteps;
    private readonly int _stepsOffset;
    private readonly PredictionType _predictionType;
    private readonly string _timestepSpacing;

    private int[] _timesteps = [];
    private int _prkCount;
    private ReadOnlyCollection<float> _timestepValues = ReadOnlyCollection<float>.Empty;
    private int _numInferenceSteps;

    // Running state (diffusers: counter, ets, cur_model_output, cur_sample).
    private int _counter;
    private readonly float[][] _ets = new float[PndmOrder][];
    private int _etsCount;
    private int _etsNewest = -1;
    private float[]? _prkAccumulator;
    private float[]? _curSample;
    private bool _hasCurSample;
    private float[]? _combined;

    /// <summary>Builds the scheduler from a diffusers config; missing keys take PNDMScheduler's defaults.</summary>
    /// <exception cref="ArgumentException">A key has a value PNDM does not support.</exception>
    public PndmScheduler(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        NumTrainTimesteps = config.GetInt32("num_train_timesteps", 1000);
        var betas = ScheduleMath.Betas(config, ClassName, 0.0001, 0.02, "linear");
        _alphasCumprod = ScheduleMath.AlphasCumprod(betas);
        _finalAlphaCumprod = config.GetBoolean("set_alpha_to_one", false) ? 1f : _alphasCumprod[0];
        _skipPrkSteps = config.GetBoolean("skip_prk_steps", false);
        _stepsOffset = config.GetInt32("steps_offset", 0);
        _predictionType = PredictionTypes.Read(config, ClassName, allowSample: false);
        _timestepSpacing = ScheduleMath.OneOf("timestep_spacing", config.GetString("timestep_spacing", "leading"), ClassName, "linspace", "leading", "trailing");
    }

    /// <summary>Training timesteps of the model (num_train_timesteps).</summary>
    public int NumTrainTimesteps { get; }

    /// <summary>Whether the Runge–Kutta warm-up is skipped (skip_prk_steps).</summary>
    public bool SkipPrkSteps => _skipPrkSteps;

    /// <summary>How many of <see cref="Timesteps"/> are Runge–Kutta steps (0 with skip_prk_steps).</summary>
    public int PrkStepCount => _prkCount;

    /// <inheritdoc />
    public IReadOnlyList<float> Timesteps => _timestepValues;

    /// <inheritdoc />
    public float InitNoiseSigma => 1f;

    // Copied from DdimScheduler.CheckLeadingScheduleFits
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
    /// <remarks>The schedule has more entries than <paramref name="numInferenceSteps"/>: PLMS repeats its second timestep; PRK visits each of the last four timesteps three times.</remarks>
    public void SetTimesteps(int numInferenceSteps)
    {
        // Copied from EulerDiscreteScheduler.SetTimesteps (argument check)
        if (numInferenceSteps < 1 || numInferenceSteps > NumTrainTimesteps)
        {
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"numInferenceSteps must be between 1 and num_train_timesteps ({NumTrainTimesteps}) but was {numInferenceSteps}");
        }

        if (!_skipPrkSteps && numInferenceSteps < PndmOrder)
        {
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"numInferenceSteps must be at least {PndmOrder} for {ClassName} with Runge–Kutta steps (skip_prk_steps false) but was {numInferenceSteps}");
        }

        _numInferenceSteps = numInferenceSteps;
        var ratio = NumTrainTimesteps / numInferenceSteps;

        // The ascending base schedule.
        var n = numInferenceSteps;
        var baseSteps = new int[n];
        switch (_timestepSpacing)
        {
            case "linspace":
                var line = ScheduleMath.Linspace(0, NumTrainTimesteps - 1, n);
                for (var i = 0; i < n; i++) baseSteps[i] = (int)ScheduleMath.Round(line[i]);
                break;
            case "leading":
                CheckLeadingScheduleFits(n, ratio);
                for (var i = 0; i < n; i++) baseSteps[i] = i * ratio + _stepsOffset;
                break;
            default: // trailing
                var trailing = ScheduleMath.Arange(NumTrainTimesteps, 0, -(double)NumTrainTimesteps / n);
                n = trailing.Length;
                baseSteps = new int[n];
                for (var i = 0; i < n; i++) baseSteps[i] = (int)ScheduleMath.Round(trailing[n - 1 - i]) - 1;
                break;
        }

        var timesteps = new List<int>(n + 12);
        if (_skipPrkSteps)
        {
            // plms = (T[:-1] + T[-2:-1] + T[-1:]) reversed: the second timestep is visited twice (PLMS warm-up).
            timesteps.Add(baseSteps[n - 1]);
            if (n >= 2) timesteps.Add(baseSteps[n - 2]);
            for (var i = n - 2; i >= 0; i--) timesteps.Add(baseSteps[i]);
            _prkCount = 0;
        }
        else
        {
            // prk: the last four timesteps as (t, t + ratio/2) pairs, minus the last, each twice, minus first and last, reversed.
            var half = ratio / 2;
            var pairs = new List<int>(2 * PndmOrder);
            for (var i = n - PndmOrder; i < n; i++)
            {
                pairs.Add(baseSteps[i]);
                pairs.Add(baseSteps[i] + half);
            }

            pairs.RemoveAt(pairs.Count - 1);
            var doubled = new List<int>(2 * pairs.Count);
            foreach (var t in pairs)
            {
                doubled.Add(t);
                doubled.Add(t);
            }

            doubled.RemoveAt(doubled.Count - 1);
            doubled.RemoveAt(0);
            doubled.Reverse();
            timesteps.AddRange(doubled);
            _prkCount = doubled.Count;
            // plms: T[:-3] reversed.
            for (var i = n - 4; i >= 0; i--) timesteps.Add(baseSteps[i]);
        }

        _timesteps = timesteps.ToArray();
        var values = new float[_timesteps.Length];
        for (var i = 0; i < values.Length; i++) values[i] = _timesteps[i];
        _timestepValues = Array.AsReadOnly(values);
        ResetState();
    }

    /// <summary>PNDM needs no input scaling: the sample is left as is.</summary>
    public void ScaleModelInput(Span<float> sample, int stepIndex) => CheckStepIndex(stepIndex);

    /// <inheritdoc />
    /// <remarks>Steps inside the Runge–Kutta part of the schedule run <see cref="StepPrk"/>, the rest <see cref="StepPlms"/>.</remarks>
    public void Step(ReadOnlySpan<float> modelOutput, int stepIndex, Span<float> sample, INoiseSource? noise = null)
    {
        CheckStepIndex(stepIndex);
        if (!_skipPrkSteps && stepIndex < _prkCount) StepPrk(modelOutput, _timesteps[stepIndex], sample);
        else StepPlms(modelOutput, _timesteps[stepIndex], sample);
    }

    /// <summary>
    /// One fourth-order Runge–Kutta sub-step at training timestep <paramref name="timestep"/> (diffusers' step_prk):
    /// every fourth call starts a new RK step from the sample it is given.
    /// </summary>
    public void StepPrk(ReadOnlySpan<float> modelOutput, int timestep, Span<float> sample)
    {
        CheckReady(modelOutput, sample);
        var diffToPrev = _counter % 2 == 1 ? 0 : NumTrainTimesteps / _numInferenceSteps / 2;
        var prevTimestep = timestep - diffToPrev;
        var baseTimestep = _timesteps[_counter / 4 * 4];
        var accumulator = _prkAccumulator!;
        var combined = _combined!;
        ReadOnlySpan<float> used = modelOutput;

        switch (_counter % 4)
        {
            case 0:
                // k1: start the weighted sum (k1 + 2k2 + 2k3 + k4)/6 and remember the step's starting sample.
                TensorPrimitives.MultiplyAdd(modelOutput, 1f / 6f, accumulator, accumulator);
                PushResidual(modelOutput);
                sample.CopyTo(_curSample);
                _hasCurSample = true;
                break;
            case 1:
            case 2:
                TensorPrimitives.MultiplyAdd(modelOutput, 1f / 3f, accumulator, accumulator);
                break;
            default:
                TensorPrimitives.MultiplyAdd(modelOutput, 1f / 6f, accumulator, combined);
                accumulator.AsSpan().Clear();
                used = combined;
                break;
        }

        ReadOnlySpan<float> source = _hasCurSample ? _curSample : sample;
        PrevSample(source, baseTimestep, prevTimestep, used, sample);
        _counter++;
    }

    /// <summary>
    /// One linear multistep step at training timestep <paramref name="timestep"/> (diffusers' step_plms).
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// Runge–Kutta steps are configured (skip_prk_steps false) but fewer than 3 past residuals exist yet.
    /// </exception>
    public void StepPlms(ReadOnlySpan<float> modelOutput, int timestep, Span<float> sample)
    {
        if (!_skipPrkSteps && _etsCount < 3)
        {
            throw new InvalidOperationException(
                $"{ClassName} can only run PLMS steps after the Runge–Kutta steps have stored 3 past residuals (it has {_etsCount}); " +
                "run the schedule from its first step, or set skip_prk_steps");
        }

        CheckReady(modelOutput, sample);
        var ratio = NumTrainTimesteps / _numInferenceSteps;
        var prevTimestep = timestep - ratio;
        if (_counter != 1)
        {
            PushResidual(modelOutput);
        }
        else
        {
            // Second warm-up step: re-evaluate from the first step's sample at the same timestep pair.
            prevTimestep = timestep;
            timestep += ratio;
        }

        var combined = _combined!;
        ReadOnlySpan<float> source = sample;
        ReadOnlySpan<float> used;
        if (_etsCount == 1 && _counter == 0)
        {
            used = modelOutput;
            sample.CopyTo(_curSample);
            _hasCurSample = true;
        }
        else if (_etsCount == 1 && _counter == 1)
        {
            // (e + e_prev)/2 from the stored sample: a Heun-like correction of the first step.
            var previous = Residual(0);
            for (var i = 0; i < combined.Length; i++) combined[i] = (modelOutput[i] + previous[i]) / 2f;
            used = combined;
            source = _curSample;
            _hasCurSample = false;
        }
        else
        {
            var e1 = Residual(0);
            var e2 = Residual(1);
            switch (_etsCount)
            {
                case 2:
                    for (var i = 0; i < combined.Length; i++) combined[i] = (3f * e1[i] - e2[i]) / 2f;
                    break;
                case 3:
                    var e3 = Residual(2);
                    for (var i = 0; i < combined.Length; i++) combined[i] = (23f * e1[i] - 16f * e2[i] + 5f * e3[i]) / 12f;
                    break;
                default:
                    var f3 = Residual(2);
                    var f4 = Residual(3);
                    for (var i = 0; i < combined.Length; i++)
                    {
                        combined[i] = 1f / 24f * (55f * e1[i] - 59f * e2[i] + 37f * f3[i] - 9f * f4[i]);
                    }

                    break;
            }

            used = combined;
        }

        PrevSample(source, timestep, prevTimestep, used, sample);
        _counter++;
    }

    // Copied from DdimScheduler.AddNoise
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

    /// <summary>
    /// PNDM eq. (9): x_prev = sqrt(ᾱ_prev/ᾱ_t)·x − (ᾱ_prev − ᾱ_t)·ε / (ᾱ_t·sqrt(1 − ᾱ_prev) + sqrt(ᾱ_t(1 − ᾱ_t)ᾱ_prev)).
    /// <paramref name="source"/> and <paramref name="destination"/> may be the same span.
    /// </summary>
    private void PrevSample(ReadOnlySpan<float> source, int timestep, int prevTimestep, ReadOnlySpan<float> epsilon, Span<float> destination)
    {
        double alphaProdT = _alphasCumprod[timestep];
        double alphaProdPrev = prevTimestep >= 0 ? _alphasCumprod[prevTimestep] : _finalAlphaCumprod;
        var betaProdT = 1 - alphaProdT;
        var betaProdPrev = 1 - alphaProdPrev;
        var sampleCoeff = Math.Sqrt(alphaProdPrev / alphaProdT);
        var denominator = alphaProdT * Math.Sqrt(betaProdPrev) + Math.Sqrt(alphaProdT * betaProdT * alphaProdPrev);
        var outputCoeff = (alphaProdPrev - alphaProdT) / denominator;
        var sqrtAlphaT = Math.Sqrt(alphaProdT);
        var sqrtBetaT = Math.Sqrt(betaProdT);
        var vPrediction = _predictionType == PredictionType.VPrediction;
        for (var i = 0; i < destination.Length; i++)
        {
            var x = source[i];
            double e = epsilon[i];
            if (vPrediction) e = (float)(sqrtAlphaT * e + sqrtBetaT * x);
            destination[i] = (float)(sampleCoeff * x - outputCoeff * e);
        }
    }

    private void PushResidual(ReadOnlySpan<float> modelOutput)
    {
        // ets keeps the last four model outputs (diffusers trims to three, then appends).
        _etsNewest = (_etsNewest + 1) % PndmOrder;
        modelOutput.CopyTo(_ets[_etsNewest]);
        _etsCount = Math.Min(_etsCount + 1, PndmOrder);
    }

    /// <summary>The residual <paramref name="age"/> steps back (0 = newest).</summary>
    private float[] Residual(int age) => _ets[(_etsNewest - age + PndmOrder) % PndmOrder];

    private void CheckReady(ReadOnlySpan<float> modelOutput, Span<float> sample)
    {
        if (_timesteps.Length == 0) throw new InvalidOperationException($"{ClassName}: call SetTimesteps before stepping");
        if (modelOutput.Length != sample.Length)
        {
            throw new ArgumentException($"modelOutput has {modelOutput.Length} values but sample has {sample.Length}", nameof(modelOutput));
        }

        if (_combined is null || _combined.Length != sample.Length)
        {
            if (_counter != 0) throw new ArgumentException($"sample has {sample.Length} values but earlier steps had {_combined!.Length}", nameof(sample));
            for (var i = 0; i < PndmOrder; i++) _ets[i] = new float[sample.Length];
            _prkAccumulator = new float[sample.Length];
            _curSample = new float[sample.Length];
            _combined = new float[sample.Length];
        }
    }

    private void ResetState()
    {
        _counter = 0;
        _etsCount = 0;
        _etsNewest = -1;
        _hasCurSample = false;
        _prkAccumulator?.AsSpan().Clear();
    }

    // Copied from DdimScheduler.CheckStepIndex
    private void CheckStepIndex(int stepIndex)
    {
        if (_timesteps.Length == 0) throw new InvalidOperationException($"{ClassName}: call SetTimesteps before stepping");
        if ((uint)stepIndex >= (uint)_timesteps.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(stepIndex), stepIndex, $"stepIndex must be between 0 and {_timesteps.Length - 1} but was {stepIndex}");
        }
    }
}
