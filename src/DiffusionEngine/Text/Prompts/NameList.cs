namespace DiffusionEngine.Text.Prompts;

/// <summary>Lookup in the wire-name lists of the prompt enums (their names are listed in declaration order).</summary>
internal static class NameList
{
    /// <summary>The index of <paramref name="name"/> in <paramref name="names"/> (ordinal, case-insensitive), or −1.</summary>
    public static int IndexOf(IReadOnlyList<string> names, string? name)
    {
        for (var i = 0; i < names.Count; i++)
            if (string.Equals(names[i], name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }
}
