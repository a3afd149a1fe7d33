using PxeKit.Cli;
using PxeKit.Cli.Commands;
using PxeKit.Server.Options;

namespace PxeKit.Tests;

public sealed class CommandLineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pxekit-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Flags_override_the_configuration_file()
    {
        var config = Path.Combine(_dir, "pxekit.yaml");
        File.WriteAllText(config, "root: /from/file\ntftp:\n  port: 1069\nhttp:\n  port: 1080\n");

        var parse = Program.BuildRootCommand().Parse(["serve", "--config", config, "--root", "/from/flag", "--http-port", "9090", "--listen", "127.0.0.1"]);
        var options = ServeCommand.ResolveOptions(parse);

        Assert.Equal("/from/flag", options.Root);
        Assert.Equal(1069, options.Tftp.Port);
        Assert.Equal(9090, options.Http.Port);
        Assert.Equal("127.0.0.1", Assert.Single(options.Listen).ToString());
        Assert.Equal(Path.GetFullPath(config), options.ConfigFile);
    }

    [Fact]
    public void Port_zero_disables_a_server()
    {
        var options = ServeCommand.ResolveOptions(Program.BuildRootCommand().Parse(["serve", "--tftp-port", "0", "--config", WriteEmptyConfig()]));
        Assert.False(options.Tftp.Enabled);
        Assert.True(options.Http.Enabled);
    }

    [Theory]
    [InlineData("--listen", "eth0", "--listen eth0: not an IP address")]
    [InlineData("--log-level", "loud", "--log-level loud")]
    [InlineData("--config", "/nonexistent/pxekit.yaml", "configuration file /nonexistent/pxekit.yaml does not exist")]
    public void Bad_flags_are_one_clear_sentence(string flag, string value, string expected)
    {
        var error = Assert.Throws<ConfigurationException>(() =>
            ServeCommand.ResolveOptions(Program.BuildRootCommand().Parse(["serve", flag, value])));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_command_has_help()
    {
        foreach (var command in Program.BuildRootCommand().Subcommands)
        {
            var output = new StringWriter();
            var parse = Program.BuildRootCommand().Parse([command.Name, "--help"]);
            var exit = parse.Invoke(new System.CommandLine.InvocationConfiguration { Output = output });
            Assert.Equal(0, exit);
            Assert.Contains(command.Description!, output.ToString(), StringComparison.Ordinal);
        }
    }

    private string WriteEmptyConfig()
    {
        var path = Path.Combine(_dir, "empty.yaml");
        File.WriteAllText(path, "");
        return path;
    }
}
