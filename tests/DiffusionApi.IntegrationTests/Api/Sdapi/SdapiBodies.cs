using System.Net.Http.Json;
using System.Text.Json;

namespace DiffusionApi.IntegrationTests.Api.Sdapi;

/// <summary>
/// A1111 request bodies in the exact shape clients send them: every field present with its default, as the webuiapi
/// Python client's txt2img() builds its payload (sampler "Euler a", scheduler "automatic", eta 1, s_noise 1, hires
/// fields with enable_hr false, empty scripts). Small sizes and 2 steps keep the tests fast.
/// </summary>
public static class SdapiBodies
{
    public static Dictionary<string, object?> Txt2Img(string prompt = "a red fox", long seed = 42, int batchSize = 1, int nIter = 1)
    {
        var body = new Dictionary<string, object?>
        {
            ["enable_hr"] = false,
            ["hr_scale"] = 2,
            ["hr_upscaler"] = "Latent",
            ["hr_second_pass_steps"] = 0,
            ["hr_resize_x"] = 0,
            ["hr_resize_y"] = 0,
            ["denoising_strength"] = 0.7,
            ["firstphase_width"] = 0,
            ["firstphase_height"] = 0,
        };
        AddCommonFields(body, prompt, seed, batchSize, nIter, steps: 2);
        return body;
    }

    /// <summary>
    /// An img2img body as webuiapi's img2img() builds it: every field with its default (resize_mode 0, denoising_strength
    /// 0.75, mask_blur 4, inpainting_fill 0, inpaint_full_res true, …), the init image as a data URL, and mask only when
    /// given. <paramref name="webuiapiMaskDefaults"/> false sends inpainting_fill 1 (original) and inpaint_full_res false
    /// (whole picture), the engine's plain inpainting, instead of webuiapi's fill and only masked.
    /// </summary>
    public static Dictionary<string, object?> Img2Img(byte[] initImage, byte[]? mask = null, string prompt = "a red fox", long seed = 42, bool webuiapiMaskDefaults = false)
    {
        var body = new Dictionary<string, object?>
        {
            ["init_images"] = new[] { "data:image/png;base64," + Convert.ToBase64String(initImage) },
            ["resize_mode"] = 0,
            ["denoising_strength"] = 0.75,
            ["mask_blur"] = 4,
            ["inpainting_fill"] = webuiapiMaskDefaults ? 0 : 1,
            ["inpaint_full_res"] = webuiapiMaskDefaults,
            ["inpaint_full_res_padding"] = 0,
            ["inpainting_mask_invert"] = 0,
            ["initial_noise_multiplier"] = 1,
            ["image_cfg_scale"] = 1.5,
            ["include_init_images"] = false,
        };
        AddCommonFields(body, prompt, seed, batchSize: 1, nIter: 1, steps: 4);
        if (mask is not null) body["mask"] = "data:image/png;base64," + Convert.ToBase64String(mask);
        return body;
    }

    /// <summary>The fields webuiapi's txt2img() and img2img() both send, with its defaults.</summary>
    private static void AddCommonFields(Dictionary<string, object?> body, string prompt, long seed, int batchSize, int nIter, int steps)
    {
        body["prompt"] = prompt;
        body["styles"] = Array.Empty<string>();
        body["seed"] = seed;
        body["subseed"] = -1;
        body["subseed_strength"] = 0.0;
        body["seed_resize_from_h"] = 0;
        body["seed_resize_from_w"] = 0;
        body["batch_size"] = batchSize;
        body["n_iter"] = nIter;
        body["steps"] = steps;
        body["cfg_scale"] = 7.0;
        body["width"] = 64;
        body["height"] = 64;
        body["restore_faces"] = false;
        body["tiling"] = false;
        body["do_not_save_samples"] = false;
        body["do_not_save_grid"] = false;
        body["negative_prompt"] = "";
        body["eta"] = 1.0;
        body["s_churn"] = 0;
        body["s_tmax"] = 0;
        body["s_tmin"] = 0;
        body["s_noise"] = 1;
        body["override_settings"] = new Dictionary<string, object>();
        body["override_settings_restore_afterwards"] = true;
        body["sampler_name"] = "Euler a";
        body["scheduler"] = "automatic";
        body["sampler_index"] = "Euler a";
        body["script_name"] = null;
        body["script_args"] = Array.Empty<object>();
        body["send_images"] = true;
        body["save_images"] = false;
        body["alwayson_scripts"] = new Dictionary<string, object>();
    }

    public static Task<HttpResponseMessage> PostImg2ImgAsync(this HttpClient client, object body, CancellationToken cancellationToken = default) =>
        client.PostAsJsonAsync("/sdapi/v1/img2img", body, cancellationToken);

    public static Dictionary<string, object?> With(this Dictionary<string, object?> body, string field, object? value)
    {
        body[field] = value;
        return body;
    }

    public static Task<HttpResponseMessage> PostTxt2ImgAsync(this HttpClient client, object body, CancellationToken cancellationToken = default) =>
        client.PostAsJsonAsync("/sdapi/v1/txt2img", body, cancellationToken);

    /// <summary>The answer's info, parsed from its JSON string.</summary>
    public static JsonElement Info(JsonElement answer) => JsonDocument.Parse(answer.GetProperty("info").GetString()!).RootElement;

    /// <summary>The fields FastAPI's 422 names (<c>detail[].loc</c> after "body", dotted).</summary>
    public static async Task<string[]> ErrorFieldsAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("detail").EnumerateArray()
            .Select(e => string.Join('.', e.GetProperty("loc").EnumerateArray().Skip(1).Select(l => l.GetString())))
            .ToArray();
    }
}
