using PxeKit.Server.Options;

namespace PxeKit.Tests.Server.Options;

public class TraceConfigTests
{
    [Fact]
    public void Traces_are_on_for_two_weeks_and_a_million_events_by_default()
    {
        var traces = ConfigFile.Parse("").Traces;
        Assert.Equal((true, TimeSpan.FromDays(14), 1_000_000), (traces.Enabled, traces.Retention, traces.MaxEvents));
    }

    [Fact]
    public void Every_traces_key_is_read()
    {
        var traces = ConfigFile.Parse("""
            traces:
              enabled: false
              retention: 30d
              max-events: 50000
            """).Traces;
        Assert.Equal((false, TimeSpan.FromDays(30), 50_000), (traces.Enabled, traces.Retention, traces.MaxEvents));
    }

    [Theory]
    [InlineData("traces:\n  retention: 10m\n", "pxekit.yaml line 2: 'traces.retention' must be between")]
    [InlineData("traces:\n  max-events: 10\n", "pxekit.yaml line 2: 'traces.max-events' must be between 1000 and 100000000, not 10")]
    [InlineData("traces:\n  keep: 3\n", "pxekit.yaml line 2: unknown key 'traces.keep'")]
    public void A_mistake_in_traces_names_the_key_and_line(string yaml, string message)
    {
        var e = Assert.Throws<ConfigurationException>(() => ConfigFile.Parse(yaml));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }
}
