using System.CommandLine;
using PxeKit.Formats.Bcd;

namespace PxeKit.Tests.Cli;

/// <summary>`pxekit bcd` parsed and run exactly as the executable does, against files in a temporary directory.</summary>
public sealed class BcdCommandTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("pxekit-bcd-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = PxeKit.Cli.Program.BuildRootCommand().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    private string File(string name) => Path.Combine(directory, name);

    [Fact]
    public void Root_command_lists_bcd() =>
        Assert.Contains(PxeKit.Cli.Program.BuildRootCommand().Subcommands, c => c.Name == "bcd");

    [Fact]
    public void Winpe_recipe_writes_the_seed_store_in_one_command()
    {
        var (code, _, error) = Run("bcd", "winpe", File("BCD"), "--uefi", "--wim", @"\sources\x64\boot.wim");
        Assert.Equal(0, code);
        Assert.Equal("", error);
        var store = BcdStore.Open(System.IO.File.ReadAllBytes(File("BCD")));
        var text = BcdEnumeration.ToText(store);
        Assert.Contains(@"ramdisk=[boot]\sources\x64\boot.wim,{ramdiskoptions}", text, StringComparison.Ordinal);
        Assert.Contains(@"\windows\system32\winload.efi", text, StringComparison.Ordinal);
        Assert.Contains("ramdisktftpblocksize    1456", text, StringComparison.Ordinal);
        Assert.Contains("nointegritychecks       Yes", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Winpe_recipe_is_byte_identical_when_run_twice()
    {
        Run("bcd", "winpe", File("a"));
        Run("bcd", "winpe", File("b"));
        Assert.Equal(System.IO.File.ReadAllBytes(File("a")), System.IO.File.ReadAllBytes(File("b")));
    }

    [Theory]
    [InlineData("boot", "device                  boot")]
    [InlineData("locate", "device                  locate=custom:12000002")]
    [InlineData("locate-path", @"device                  locate=\Windows\system32\winload.exe")]
    public void Windows_recipe_writes_disk_independent_devices(string device, string expected)
    {
        Assert.Equal(0, Run("bcd", "windows", File("BCD"), "--device", device).Code);
        Assert.Contains(expected, Run("bcd", "show", File("BCD")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Vhd_recipe_writes_native_vhd_boot()
    {
        Assert.Equal(0, Run("bcd", "vhd", File("BCD"), "--vhd", @"\images\x.vhd").Code);
        var text = Run("bcd", "show", File("BCD")).Output;
        Assert.Contains(@"device                  vhd=[locate]\images\x.vhd,locate=custom:12000002", text, StringComparison.Ordinal);
        Assert.Contains(@"osdevice                vhd=[locate]\images\x.vhd,locate=custom:22000002", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Bcdedit_sequence_builds_an_editable_store()
    {
        var store = File("BCD");
        Assert.Equal(0, Run("bcd", "createstore", store).Code);
        Assert.Equal(0, Run("bcd", "create", store, "{bootmgr}", "--description", "Boot Manager").Code);
        var created = Run("bcd", "create", store, "{c0c0c0c0-0000-4000-8000-000000000009}", "-d", "Windows", "--application", "osloader");
        Assert.Contains("{c0c0c0c0-0000-4000-8000-000000000009} was successfully created", created.Output, StringComparison.Ordinal);
        const string id = "{c0c0c0c0-0000-4000-8000-000000000009}";
        Assert.Equal(0, Run("bcd", "set", store, id, "device", "partition={mbr:sig=36234da4,offset=0x100000}").Code);
        Assert.Equal(0, Run("bcd", "set", store, id, "path", @"\Windows\system32\winload.exe").Code);
        Assert.Equal(0, Run("bcd", "set", store, id, "custom:26000010", "yes").Code);
        Assert.Equal(0, Run("bcd", "displayorder", store, id, "--addlast").Code);
        Assert.Equal(0, Run("bcd", "default", store, id).Code);
        Assert.Equal(0, Run("bcd", "timeout", store, "12").Code);
        Assert.Equal(0, Run("bcd", "deletevalue", store, "{default}", "path").Code);

        var text = Run("bcd", "show", store).Output;
        Assert.Contains("device                  partition={mbr:sig=36234da4,offset=0x100000}", text, StringComparison.Ordinal);
        Assert.Contains("detecthal               Yes", text, StringComparison.Ordinal);
        Assert.Contains("timeout                 12", text, StringComparison.Ordinal);
        Assert.Contains("identifier              {default}", text, StringComparison.Ordinal);
        Assert.DoesNotContain("winload", text, StringComparison.Ordinal);

        Assert.Equal(0, Run("bcd", "delete", store, id).Code);
        Assert.DoesNotContain("Windows Boot Loader", Run("bcd", "show", store).Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, "set", "{bootmgr}", "winpe", "Yes")]
    [InlineData(2, "set", "{not-a-guid}", "timeout", "3")]
    [InlineData(2, "set", "{bootmgr}", "timeout", "soon")]
    [InlineData(2, "set", "{bootmgr}", "device", "ramdisk=[C:]\\x.wim")]
    [InlineData(2, "delete", "{memdiag}")]
    public void User_mistakes_get_one_sentence_and_a_usage_exit_code(int expected, params string[] args)
    {
        Run("bcd", "winpe", File("BCD"));
        var (code, _, error) = Run(["bcd", args[0], File("BCD"), .. args[1..]]);
        Assert.Equal(expected, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith("pxekit bcd: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_or_damaged_files_get_one_sentence_and_exit_code_1()
    {
        var missing = Run("bcd", "show", File("nope"));
        Assert.Equal(1, missing.Code);
        Assert.Contains("does not exist", missing.Error, StringComparison.Ordinal);

        Run("bcd", "winpe", File("BCD"));
        var bytes = System.IO.File.ReadAllBytes(File("BCD"));
        bytes[0x1FC] ^= 0xFF;
        System.IO.File.WriteAllBytes(File("BCD"), bytes);
        var damaged = Run("bcd", "show", File("BCD"));
        Assert.Equal(1, damaged.Code);
        Assert.Contains("checksum", damaged.Error, StringComparison.Ordinal);
        Assert.Single(damaged.Error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void A_hive_that_is_not_a_store_is_a_file_error()
    {
        var result = Run("bcd", "show", Path.Combine(PxeKit.Tests.Formats.SharedFixtures.Directory("bcd"), "hivex_minimal"));
        Assert.Equal(1, result.Code);
        Assert.Contains("not a BCD store", result.Error, StringComparison.Ordinal);
    }
}
