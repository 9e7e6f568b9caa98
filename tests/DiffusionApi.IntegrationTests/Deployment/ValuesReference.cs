namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>One <c>.Values.a.b.c</c> (or <c>$.Values.a.b.c</c>) reference found in a chart template.</summary>
/// <param name="Template">Template file name, e.g. <c>deployment.yaml</c>.</param>
/// <param name="Line">1-based line of the reference.</param>
/// <param name="Path">The keys after <c>.Values</c>, e.g. <c>["gpu", "enabled"]</c>.</param>
internal sealed record ValuesReference(string Template, int Line, IReadOnlyList<string> Path)
{
    public string Expression => ".Values." + string.Join('.', Path);

    public override string ToString() => $"{Template}:{Line} {Expression}";
}
