namespace DiffusionApi.Apis.Sdapi;

/// <summary>
/// AUTOMATIC1111's web API under /sdapi/v1, which Krita and Photoshop plugins, Discord bots, SillyTavern, Open WebUI and
/// the webuiapi client speak (docs/a1111.md: what is supported, what is a 422, and how we differ).
/// </summary>
public static class SdapiApi
{
    public static IEndpointRouteBuilder MapSdapi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/sdapi/v1").WithTags("A1111 (sdapi)");
        group.MapSdapiGeneration();
        group.MapSdapiProgress();
        group.MapSdapiDiscovery();
        return app;
    }
}
