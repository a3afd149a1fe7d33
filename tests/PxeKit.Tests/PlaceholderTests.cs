namespace PxeKit.Tests;

public class CommandLineTests
{
    [Fact]
    public void Root_command_lists_serve()
    {
        var root = PxeKit.Cli.Program.BuildRootCommand();
        Assert.Contains(root.Subcommands, c => c.Name == "serve");
    }
}
