namespace DiffusionEngine.TinyModel.Vocabulary;

/// <summary>
/// The small built-in text the tiny model's BPE merges are learned from: typical Stable Diffusion prompt words.
/// Changing it changes the vocabulary (and so every tiny model's bytes).
/// </summary>
internal static class PromptCorpus
{
    public const string Text = """
        a photo of a cat sitting on a windowsill, highly detailed, sharp focus, natural lighting
        a photograph of an astronaut riding a horse on the moon, cinematic lighting, trending on artstation
        a beautiful painting of a mountain landscape at sunset, oil on canvas, by a famous artist
        portrait of a young woman with long hair, studio lighting, bokeh, professional photography
        a cute dog playing in the snow, digital art, vibrant colors, high resolution, masterpiece
        a futuristic city skyline at night, neon lights, rain, cyberpunk, concept art, ultra detailed
        an old castle on a hill surrounded by a forest, fantasy, matte painting, dramatic clouds
        a bowl of fruit on a wooden table, still life, soft shadows, realistic, best quality
        a red sports car driving through the desert, motion blur, golden hour, wide angle
        a small house by the lake in autumn, watercolor, pastel colors, peaceful morning light
        an ancient temple in the jungle, volumetric light, god rays, epic composition, octane render
        a spaceship flying over an alien planet, science fiction, stars, nebula, illustration
        a close up of a flower with water drops, macro photography, shallow depth of field
        a knight in shining armor holding a sword, character design, full body, intricate details
        a cozy library with many books and a fireplace, warm lighting, interior design, 4k
        a black and white photo of a street in the city, people walking, film grain, vintage
        a dragon flying over the ocean, storm, lightning, dark fantasy, highly detailed painting
        a bird sitting on a branch in the garden, spring, green leaves, blue sky, sunny day
        low quality, blurry, bad anatomy, ugly, deformed, extra fingers, watermark, text, signature
        worst quality, jpeg artifacts, cropped, out of frame, duplicate, disfigured, poorly drawn
        """;

    /// <summary>The corpus as lower-case words: runs of letters, as CLIP's pre-tokenizer splits them.</summary>
    public static IReadOnlyList<string> Words()
    {
        var words = new List<string>();
        var start = -1;
        for (var i = 0; i <= Text.Length; i++)
        {
            var isLetter = i < Text.Length && char.IsLetter(Text[i]);
            if (isLetter && start < 0) start = i;
            if (!isLetter && start >= 0)
            {
                words.Add(Text[start..i].ToLowerInvariant());
                start = -1;
            }
        }
        return words;
    }
}
