using YamlDotNet.RepresentationModel;

namespace PxeKit.Server.Options;

public static partial class ConfigFile
{
    private static void ParseTraces(Reader reader, YamlNode node, TraceOptions traces) =>
        reader.Mapping(node, "traces", new()
        {
            ["enabled"] = v => traces.Enabled = reader.Bool(v, "traces.enabled"),
            ["retention"] = v => traces.Retention = reader.Duration(v, "traces.retention", TimeSpan.FromHours(1), TimeSpan.FromDays(3650)),
            ["max-events"] = v => traces.MaxEvents = reader.Int(v, "traces.max-events", 1000, 100_000_000),
        });
}
