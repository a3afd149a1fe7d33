using System.Reflection;

namespace PxeKit.Tests;

/// <summary>ARCHITECTURE.md: references point down only; Formats and Protocols know nothing of each other or of us.</summary>
public class ArchitectureTests
{
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["PxeKit.Formats"] = [],
        ["PxeKit.Protocols"] = [],
        ["PxeKit.Server"] = ["PxeKit.Formats", "PxeKit.Protocols"],
        ["pxekit"] = ["PxeKit.Server", "PxeKit.Formats", "PxeKit.Protocols"],
    };

    [Theory]
    [InlineData("PxeKit.Formats")]
    [InlineData("PxeKit.Protocols")]
    [InlineData("PxeKit.Server")]
    [InlineData("pxekit")]
    public void Project_references_point_down_only(string assemblyName)
    {
        var assembly = Assembly.Load(assemblyName);
        var ours = assembly.GetReferencedAssemblies()
            .Select(a => a.Name!)
            .Where(n => n.StartsWith("PxeKit", StringComparison.Ordinal) || n == "pxekit")
            .ToList();
        Assert.All(ours, name => Assert.Contains(name, Allowed[assemblyName]));
    }

    [Fact]
    public void Boot_policy_opens_no_sockets()
    {
        var boot = Assembly.Load("PxeKit.Server").GetTypes().Where(t => t.Namespace == "PxeKit.Server.Boot");
        foreach (var type in boot)
        {
            var members = type.GetFields(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
                .Select(f => f.FieldType);
            Assert.DoesNotContain(members, t => t.Namespace == "System.Net.Sockets");
        }
    }
}
