using YamlDotNet.RepresentationModel;

namespace DiffusionApi.IntegrationTests.Deployment;

/// <summary>The scanner and resolver behind the chart's values check, on small inputs with known answers.</summary>
public sealed class ValuesReferenceCheckTests
{
    [Fact]
    public void Scan_FindsValuesPathsInsideActions_WithTheirLines()
    {
        const string template = """
            kind: Deployment
            {{- if and .Values.gpu.enabled (not .Values.a.b_c) }}
            replicas: {{ $.Values.replicaCount }}
            {{- end }}
            """;

        var references = ValuesReferenceScanner.Scan("t.yaml", template);

        Assert.Equal(
            [".Values.gpu.enabled@2", ".Values.a.b_c@2", ".Values.replicaCount@3"],
            references.Select(r => $"{r.Expression}@{r.Line}"));
    }

    [Fact]
    public void Scan_IgnoresTextOutsideActions_CommentsAndVariablesNamedValues()
    {
        const string template = """
            # see .Values.not.a.reference in a YAML comment
            {{/* .Values.in.a.comment */}}
            {{- /* .Values.trimmed.comment */ -}}
            {{ $x.Values.nope }} {{ (foo).Values.nope }} {{ toYaml .Values | nindent 2 }}
            """;

        Assert.Empty(ValuesReferenceScanner.Scan("t.yaml", template));
    }

    [Fact]
    public void Scan_FindsReferencesInActionsThatSpanLines()
    {
        const string template = "{{- include \"x\" (dict\n  \"a\" .Values.multi.line) }}";

        var reference = Assert.Single(ValuesReferenceScanner.Scan("t.yaml", template));

        Assert.Equal(".Values.multi.line", reference.Expression);
        Assert.Equal(2, reference.Line);
    }

    [Fact]
    public void FindMissing_NamesTheFirstMissingKeyAndItsParent()
    {
        var values = Values("image:\n  repository: r\n  tag: \"\"\nlist: [1]\nempty: {}\n");

        Assert.Null(values.FindMissing(["image", "tag"]));
        Assert.Null(values.FindMissing(["empty"]));
        Assert.Equal("values.yaml has no key 'pullPolicy' under 'image'", values.FindMissing(["image", "pullPolicy"]));
        Assert.Equal("values.yaml has no key 'missing' under the root", values.FindMissing(["missing"]));
        Assert.Equal("values.yaml has no key 'x' under 'empty'", values.FindMissing(["empty", "x"]));
        Assert.Equal("values.yaml has 'image.tag' as a null, so it has no key 'x'", values.FindMissing(["image", "tag", "x"]));
        Assert.Equal("values.yaml has 'list' as a list, so it has no key 'x'", values.FindMissing(["list", "x"]));
    }

    [Fact]
    public void FindUnbalancedBlocks_ReportsUnclosedAndExtraEnds()
    {
        var unclosed = new ChartTemplate("a.yaml", "{{- if .Values.x }}\n{{- with .Values.y }}\n{{- end }}\n");
        var extra = new ChartTemplate("b.yaml", "{{- range .Values.x }}{{ end }}\n{{ end }}\n");
        var balanced = new ChartTemplate("c.yaml", "{{- if .x }}a{{- else if .y }}b{{- else }}c{{- end }}{{/* if */}}");

        Assert.Equal(["a.yaml:1: 'if' is never closed by end"], TemplateStructure.FindUnbalancedBlocks(unclosed));
        Assert.Equal(["b.yaml:2: end without an open block"], TemplateStructure.FindUnbalancedBlocks(extra));
        Assert.Empty(TemplateStructure.FindUnbalancedBlocks(balanced));
    }

    private static ValuesTree Values(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return new ValuesTree((YamlMappingNode)stream.Documents[0].RootNode);
    }
}
