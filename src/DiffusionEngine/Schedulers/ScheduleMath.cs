namespace DiffusionEngine.Schedulers;

/// <summary>
/// The noise-schedule arithmetic every diffusers scheduler repeats (beta schedules, cumulative alphas, sigma table,
/// np.interp, Karras sigmas, sigma→t), kept in one place instead of diffusers' "# Copied from" duplicates because the
/// precision recipe of reference-vectors.md §1.7 must be bit-identical across schedulers: torch float32 where
/// diffusers uses torch tensors, double where it uses numpy float64, cumprod accumulated in double and rounded per entry.
/// </summary>
internal static class ScheduleMath
{
    /// <summary>torch.linspace/np.linspace: a + i·(b − a)/(n − 1), last element exactly b.</summary>
    public static double[] Linspace(double start, double stop, int count, bool endpoint = true)
    {
        var result = new double[count];
        if (count == 0) return result;
        var div = endpoint ? count - 1 : count;
        var step = div > 0 ? (stop - start) / div : 0.0;
        for (var i = 0; i < count; i++) result[i] = i * step + start;
        if (endpoint && count > 1) result[count - 1] = stop;
        return result;
    }

    /// <summary>np.arange(start, stop, step) for floating steps: ceil((stop − start)/step) values start + i·step.</summary>
    public static double[] Arange(double start, double stop, double step)
    {
        var count = (int)Math.Max(0, Math.Ceiling((stop - start) / step));
        var result = new double[count];
        for (var i = 0; i < count; i++) result[i] = start + i * step;
        return result;
    }

    /// <summary>numpy/torch round: half to even.</summary>
    public static double Round(double value) => Math.Round(value, MidpointRounding.ToEven);

    /// <summary>
    /// The betas of a diffusers scheduler __init__ (float32): trained_betas when given, else the named schedule over
    /// num_train_timesteps (rescaling to zero terminal SNR is left to the caller).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown schedule name, or trained_betas of the wrong length.</exception>
    public static float[] Betas(SchedulerConfig config, string schedulerName, double defaultBetaStart, double defaultBetaEnd, string defaultBetaSchedule)
    {
        var count = config.GetInt32("num_train_timesteps", 1000);
        if (count < 2) throw new ArgumentException($"num_train_timesteps must be at least 2 but was {count}", nameof(config));

        var trained = config.GetDoubleArray("trained_betas");
        float[] betas;
        if (trained is not null)
        {
            if (trained.Length != count)
            {
                throw new ArgumentException($"trained_betas must have num_train_timesteps = {count} entries but had {trained.Length}", nameof(config));
            }

            betas = new float[count];
            for (var i = 0; i < count; i++) betas[i] = (float)trained[i];
        }
        else
        {
            var betaStart = config.GetDouble("beta_start", defaultBetaStart);
            var betaEnd = config.GetDouble("beta_end", defaultBetaEnd);
            var schedule = config.GetString("beta_schedule", defaultBetaSchedule);
            betas = schedule switch
            {
                "linear" => LinearBetas(betaStart, betaEnd, count),
                "scaled_linear" => ScaledLinearBetas(betaStart, betaEnd, count),
                "squaredcos_cap_v2" => CosineBetas(count),
                _ => throw new ArgumentException(
                    $"beta_schedule must be linear, scaled_linear or squaredcos_cap_v2 for {schedulerName} but was '{schedule}'", nameof(config)),
            };
        }

        return betas;
    }

    /// <summary>
    /// torch.linspace(start, end, n, dtype=float32) as torch's CPU kernel computes it, in float32: step = (end − start)/(n − 1),
    /// the first half start + step·i, the second half end − step·(n − 1 − i). (Rounding a double linspace differs in the
    /// last ulp of some entries, e.g. ᾱ[999] of the linear 0.0001..0.02 table.)
    /// </summary>
    public static float[] TorchLinspace(double start, double end, int count)
    {
        var result = new float[count];
        if (count == 0) return result;
        var first = (float)start;
        var last = (float)end;
        if (count == 1)
        {
            result[0] = first;
            return result;
        }

        var step = (last - first) / (count - 1);
        var halfway = count / 2;
        for (var i = 0; i < count; i++) result[i] = i < halfway ? first + step * i : last - step * (count - 1 - i);
        return result;
    }

    /// <summary>torch.linspace(start, end, n, dtype=float32).</summary>
    public static float[] LinearBetas(double start, double end, int count) => TorchLinspace(start, end, count);

    /// <summary>torch.linspace(start**0.5, end**0.5, n, dtype=float32) ** 2 — the latent-diffusion schedule.</summary>
    public static float[] ScaledLinearBetas(double start, double end, int count)
    {
        var betas = TorchLinspace(Math.Sqrt(start), Math.Sqrt(end), count);
        for (var i = 0; i < count; i++) betas[i] *= betas[i];
        return betas;
    }

    /// <summary>betas_for_alpha_bar with the Glide cosine alpha_bar, max_beta 0.999 (python floats, stored as float32).</summary>
    public static float[] CosineBetas(int count, double maxBeta = 0.999)
    {
        static double AlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);

        var betas = new float[count];
        for (var i = 0; i < count; i++)
        {
            var t1 = (double)i / count;
            var t2 = (double)(i + 1) / count;
            betas[i] = (float)Math.Min(1 - AlphaBar(t2) / AlphaBar(t1), maxBeta);
        }

        return betas;
    }

    /// <summary>
    /// rescale_zero_terminal_snr (arXiv 2305.08891, Algorithm 1): shifts and scales sqrt(alphas_cumprod) so the last
    /// timestep has zero signal, then converts back to betas (float32, as torch does).
    /// </summary>
    public static float[] RescaleZeroTerminalSnr(float[] betas)
    {
        var alphasCumprod = AlphasCumprod(betas);
        var count = betas.Length;
        var barSqrt = new float[count];
        for (var i = 0; i < count; i++) barSqrt[i] = MathF.Sqrt(alphasCumprod[i]);
        var first = barSqrt[0];
        var last = barSqrt[count - 1];
        var scale = first / (first - last);
        var alphasBar = new float[count];
        for (var i = 0; i < count; i++)
        {
            var shifted = (barSqrt[i] - last) * scale;
            alphasBar[i] = shifted * shifted;
        }

        var rescaled = new float[count];
        rescaled[0] = 1f - alphasBar[0];
        for (var i = 1; i < count; i++) rescaled[i] = 1f - alphasBar[i] / alphasBar[i - 1];
        return rescaled;
    }

    /// <summary>
    /// alphas_cumprod = cumprod(1 − betas): torch's CPU cumprod accumulates in double and rounds each output to float32
    /// (pure-float or pure-double tables miss the Euler/LMS with-noise reference sums).
    /// </summary>
    public static float[] AlphasCumprod(float[] betas)
    {
        var result = new float[betas.Length];
        var product = 1.0;
        for (var i = 0; i < betas.Length; i++)
        {
            product *= 1f - betas[i];
            result[i] = (float)product;
        }

        return result;
    }

    /// <summary>The Karras-style sigma table sqrt((1 − ᾱ_t)/ᾱ_t), computed in float32 as torch does; index = training timestep.</summary>
    public static float[] SigmaTable(float[] alphasCumprod)
    {
        var sigmas = new float[alphasCumprod.Length];
        for (var i = 0; i < sigmas.Length; i++) sigmas[i] = SigmaOf(alphasCumprod[i]);
        return sigmas;
    }

    /// <summary>sqrt((1 − ᾱ)/ᾱ) in float32.</summary>
    public static float SigmaOf(float alphaCumprod) => MathF.Sqrt((1f - alphaCumprod) / alphaCumprod);

    /// <summary>np.log of the float32 sigma table (the result stays float32, as numpy keeps the dtype).</summary>
    public static float[] LogSigmas(float[] sigmaTable)
    {
        var logs = new float[sigmaTable.Length];
        for (var i = 0; i < logs.Length; i++) logs[i] = MathF.Log(sigmaTable[i]);
        return logs;
    }

    /// <summary>np.interp(x, arange(len(table)), table) in double: linear between the neighbouring integer timesteps.</summary>
    public static double Interp(double x, float[] table)
    {
        var last = table.Length - 1;
        if (x <= 0) return table[0];
        if (x >= last) return table[last];
        var j = (int)Math.Floor(x);
        var slope = (double)table[j + 1] - table[j];
        return slope * (x - j) + table[j];
    }

    /// <summary>
    /// Karras et al. (2022) eq. 5 with rho = 7: n sigmas from sigma_max down to sigma_min, evenly spaced in sigma^(1/rho).
    /// </summary>
    public static double[] KarrasSigmas(double sigmaMin, double sigmaMax, int count)
    {
        const double rho = 7.0;
        var ramp = Linspace(0, 1, count);
        var minInvRho = Math.Pow(sigmaMin, 1 / rho);
        var maxInvRho = Math.Pow(sigmaMax, 1 / rho);
        var sigmas = new double[count];
        for (var i = 0; i < count; i++) sigmas[i] = Math.Pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
        return sigmas;
    }

    /// <summary>
    /// diffusers' _sigma_to_t: the fractional training timestep whose sigma is <paramref name="sigma"/>, by linear
    /// interpolation in log-sigma between the two neighbouring table entries (clamped to the table's ends).
    /// </summary>
    public static double SigmaToT(double sigma, float[] logSigmas)
    {
        var logSigma = Math.Log(Math.Max(sigma, 1e-10));
        // low = last index with log_sigmas[low] <= log(sigma): cumsum(dists >= 0).argmax() — 0 when there is none.
        var low = 0;
        var count = 0;
        var best = 0;
        for (var i = 0; i < logSigmas.Length; i++)
        {
            if (logSigma - logSigmas[i] >= 0)
            {
                count++;
                if (count > best)
                {
                    best = count;
                    low = i;
                }
            }
        }

        low = Math.Min(low, logSigmas.Length - 2);
        var lowValue = (double)logSigmas[low];
        var highValue = (double)logSigmas[low + 1];
        var w = Math.Clamp((lowValue - logSigma) / (lowValue - highValue), 0, 1);
        return (1 - w) * low + w * (low + 1);
    }

    /// <summary>
    /// Dynamic thresholding (Saharia et al. 2022, Imagen): per image, s = the <paramref name="ratio"/>-quantile of |x0|
    /// (torch.quantile's linear interpolation) clamped to [1, <paramref name="maxValue"/>] (torch.clamp order: the upper
    /// bound wins when max &lt; 1); then x0 = clamp(x0, −s, s)/s. <paramref name="scratch"/> holds one image.
    /// </summary>
    /// <exception cref="ArgumentException">The sample does not split into <paramref name="batchSize"/> equal images.</exception>
    public static void DynamicThreshold(Span<float> x0, int batchSize, double ratio, double maxValue, Span<float> scratch)
    {
        if (batchSize < 1 || x0.Length % batchSize != 0)
        {
            throw new ArgumentException($"a sample of {x0.Length} values does not split into BatchSize = {batchSize} images for dynamic thresholding");
        }

        var imageLength = x0.Length / batchSize;
        for (var b = 0; b < batchSize; b++)
        {
            var image = x0.Slice(b * imageLength, imageLength);
            var sorted = scratch[..imageLength];
            for (var i = 0; i < imageLength; i++) sorted[i] = Math.Abs(image[i]);
            sorted.Sort();
            var position = ratio * (imageLength - 1);
            var lower = (int)Math.Floor(position);
            var upper = Math.Min(lower + 1, imageLength - 1);
            var quantile = sorted[lower] + (position - lower) * ((double)sorted[upper] - sorted[lower]);
            var s = (float)Math.Min(Math.Max(quantile, 1.0), maxValue);
            for (var i = 0; i < imageLength; i++) image[i] = Math.Clamp(image[i], -s, s) / s;
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is one of <paramref name="allowed"/>; returns it.</summary>
    public static string OneOf(string key, string value, string schedulerName, params string[] allowed)
    {
        foreach (var candidate in allowed)
        {
            if (candidate == value) return value;
        }

        throw new ArgumentException($"{key} must be one of {string.Join(", ", allowed)} for {schedulerName} but was '{value}'");
    }
}
