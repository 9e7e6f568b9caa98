using System.Globalization;
using Microsoft.Extensions.Options;

namespace DiffusionApi.Options;

/// <summary>
/// Binds <see cref="ModelsOptions.Entries"/> from the numeric children of <c>Diffusion:Models</c>, in index order: the
/// section holds both the list and <c>MaxLoaded</c>, which a plain list binding cannot express.
/// </summary>
public sealed class ModelsOptionsBinding(IConfiguration configuration) : IConfigureOptions<ModelsOptions>
{
    public void Configure(ModelsOptions options)
    {
        var entries = new List<(int Index, ModelEntryOptions Entry)>();
        foreach (var child in configuration.GetSection(ModelsOptions.SectionName).GetChildren())
        {
            if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var index)) continue;
            var entry = new ModelEntryOptions();
            child.Bind(entry);
            entries.Add((index, entry));
        }
        options.Entries.Clear();
        options.Entries.AddRange(entries.OrderBy(e => e.Index).Select(e => e.Entry));
    }
}
