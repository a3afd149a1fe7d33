using System.CommandLine;
using PxeKit.Server.Options;

namespace PxeKit.Tests.Cli;

/// <summary><c>pxekit import tinypxe</c> as the executable parses it: where the YAML goes, exit codes, messages.</summary>
public sealed class ImportCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pxekit-import-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = PxeKit.Cli.Program.BuildRootCommand().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    private string Ini(string text)
    {
        var path = Path.Combine(_dir, "config.ini");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Writes_yaml_to_stdout_and_untranslated_keys_to_stderr_with_exit_0()
    {
        var (code, output, error) = Run("import", "tinypxe", Ini("[dhcp]\nproxydhcp=1\nopt54=192.0.2.10\nfilename=undionly.kpxe\nbinl=1\n"));
        Assert.Equal(0, code);
        Assert.Equal("undionly.kpxe", ConfigFile.Parse(output).Dhcp.Boot.Files[0]);
        Assert.Contains("pxekit import tinypxe: not translated: [dhcp] binl=1 (line 5): PxeKit has no BINL (RIS/WDS) server", error, StringComparison.Ordinal);
        Assert.Contains("# not translated: [dhcp] binl=1 (line 5)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Output_file_is_not_overwritten_without_force()
    {
        var ini = Ini("[dhcp]\nproxydhcp=1\nopt54=192.0.2.10\nfilename=undionly.kpxe\n");
        var target = Path.Combine(_dir, "pxekit.yaml");
        File.WriteAllText(target, "mine");

        var (code, output, error) = Run("import", "tinypxe", ini, "--output", target);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal($"pxekit import tinypxe: {target} exists; add --force to overwrite it.", error.Trim());
        Assert.Equal("mine", File.ReadAllText(target));

        (code, _, error) = Run("import", "tinypxe", ini, "--output", target, "--force");
        Assert.Equal(0, code);
        Assert.Equal("undionly.kpxe", ConfigFile.Load(target).Dhcp.Boot.Files[0]);
        Assert.Contains($"wrote {target} (0 keys not translated)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Unreadable_ini_exits_2_with_one_sentence()
    {
        var path = Path.Combine(_dir, "garbage.ini");
        File.WriteAllBytes(path, [0x00, 0x01, 0x02, 0xFF]);
        var (code, output, error) = Run("import", "tinypxe", path);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal("pxekit import tinypxe: garbage.ini line 1 contains the control character U+0000: this is not a text config.ini.".Replace("garbage.ini", path, StringComparison.Ordinal), error.Trim());

        (code, _, error) = Run("import", "tinypxe", Path.Combine(_dir, "missing.ini"));
        Assert.Equal(2, code);
        Assert.StartsWith("pxekit import tinypxe: cannot read ", error, StringComparison.Ordinal);
    }
}
