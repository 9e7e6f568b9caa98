namespace DiffusionEngine.Schedulers;

/// <summary>What the UNet predicts (diffusers' <c>prediction_type</c>).</summary>
internal enum PredictionType
{
    /// <summary>"epsilon": the added noise ε.</summary>
    Epsilon,

    /// <summary>"sample": the clean sample x0.</summary>
    Sample,

    /// <summary>"v_prediction": v = sqrt(ᾱ)·ε − sqrt(1 − ᾱ)·x0 (Salimans and Ho 2022).</summary>
    VPrediction,
}

internal static class PredictionTypes
{
    /// <summary>Reads prediction_type (default "epsilon"), accepting only the kinds the scheduler implements.</summary>
    public static PredictionType Read(SchedulerConfig config, string schedulerName, bool allowSample)
    {
        var value = config.GetString("prediction_type", "epsilon");
        return value switch
        {
            "epsilon" => PredictionType.Epsilon,
            "v_prediction" => PredictionType.VPrediction,
            "sample" when allowSample => PredictionType.Sample,
            _ => throw new ArgumentException(
                $"prediction_type must be one of epsilon, v_prediction{(allowSample ? ", sample" : "")} for {schedulerName} but was '{value}'"),
        };
    }
}
