namespace DiffusionEngine.TinyModel;

/// <summary>Element type of the text encoder's <c>input_ids</c> [batch, 77].</summary>
public enum InputIdsType
{
    /// <summary>int32: the diffusers conversion script and Optimum before 1.24.</summary>
    Int32,

    /// <summary>int64: Optimum 1.24 and later.</summary>
    Int64,
}
