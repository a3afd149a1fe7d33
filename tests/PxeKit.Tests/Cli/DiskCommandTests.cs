using System.CommandLine;
using System.Text.Json;
using PxeKit.Cli.Commands;
using PxeKit.Formats.Disks;

namespace PxeKit.Tests.Cli;

/// <summary>`pxekit disk` parsed and run exactly as the executable does, against images in a temporary directory.</summary>
public sealed class DiskCommandTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("pxekit-disk-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = PxeKit.Cli.Program.BuildRootCommand().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    private string PathOf(string name) => Path.Combine(directory, name);

    [Theory]
    [InlineData("disk.img", DiskFormat.Raw, DiskKind.Fixed)]
    [InlineData("disk.vhd", DiskFormat.Vhd, DiskKind.Dynamic)]
    [InlineData("disk.VHDX", DiskFormat.Vhdx, DiskKind.Dynamic)]
    public void Create_takes_the_format_from_the_extension_and_makes_a_dynamic_image(string name, DiskFormat format, DiskKind kind)
    {
        var (code, output, error) = Run("disk", "create", PathOf(name), "--size", "40M");
        Assert.Equal("", error);
        Assert.Equal(0, code);
        Assert.Contains("40 MiB (41,943,040 bytes)", output, StringComparison.Ordinal);
        using var disk = DiskImage.Open(PathOf(name));
        Assert.Equal((format, kind, 40L * 1024 * 1024), (disk.Format, disk.Kind, disk.Length));
    }

    [Theory]
    [InlineData("vhd")]
    [InlineData("vhdx")]
    public void Create_fixed_allocates_the_whole_disk(string format)
    {
        Assert.Equal(0, Run("disk", "create", PathOf("fixed.bin"), "--format", format, "--size", "8M", "--fixed").Code);
        using var disk = DiskImage.Open(PathOf("fixed.bin"));
        Assert.Equal(DiskKind.Fixed, disk.Kind);
        Assert.True(new FileInfo(PathOf("fixed.bin")).Length >= 8L * 1024 * 1024);
    }

    [Fact]
    public void Create_honours_block_and_sector_size_of_a_vhdx()
    {
        Assert.Equal(0, Run("disk", "create", PathOf("4k.vhdx"), "--size", "64M", "--block-size", "1M", "--sector-size", "4096").Code);
        using var disk = DiskImage.Open(PathOf("4k.vhdx"));
        Assert.Equal(4096, disk.LogicalSectorSize);
        Assert.Equal(1024 * 1024, disk.GetAllocation().BlockSize);
    }

    [Theory]
    [InlineData("cannot tell the format from the name disk.bin", "disk.bin", "--size", "1G")]
    [InlineData("--size '12Q' is not a size", "disk.vhd", "--size", "12Q")]
    [InlineData("is not a size", "disk.vhd", "--size", "-5G")]
    [InlineData("not a whole number of bytes", "disk.vhd", "--size", "1.3")]
    [InlineData("--fixed applies to VHD and VHDX", "disk.img", "--size", "1G", "--fixed")]
    [InlineData("--sector-size 4096 needs VHDX", "disk.vhd", "--size", "1G", "--sector-size", "4096")]
    [InlineData("--block-size applies to dynamic VHD and VHDX", "disk.img", "--size", "1G", "--block-size", "1M")]
    [InlineData("unknown format 'qcow2'", "disk.img", "--size", "1G", "--format", "qcow2")]
    public void Create_refuses_bad_arguments_with_exit_2_and_writes_nothing(string expected, string name, params string[] options)
    {
        var (code, _, error) = Run(["disk", "create", PathOf(name), .. options]);
        Assert.Equal(2, code);
        Assert.StartsWith("pxekit disk: ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.False(File.Exists(PathOf(name)));
    }

    [Fact]
    public void Create_never_overwrites_an_existing_file()
    {
        File.WriteAllText(PathOf("mine.vhd"), "not yours");
        var (code, _, error) = Run("disk", "create", PathOf("mine.vhd"), "--size", "1G");
        Assert.Equal(1, code);
        Assert.Contains("already exists; pxekit never overwrites an image", error, StringComparison.Ordinal);
        Assert.Equal("not yours", File.ReadAllText(PathOf("mine.vhd")));
    }

    [Theory]
    [InlineData("40G", 40L << 30)]
    [InlineData("512M", 512L << 20)]
    [InlineData("1T", 1L << 40)]
    [InlineData("10GiB", 10L << 30)]
    [InlineData("1.5G", 3L << 29)]
    [InlineData("1048576", 1048576)]
    [InlineData("64k", 65536)]
    public void Sizes_count_in_binary_units_as_qemu_img_does(string text, long bytes) =>
        Assert.Equal(bytes, DiskCommand.ParseSize(text, "--size"));

    [Theory]
    [InlineData("vhd")]
    [InlineData("vhdx")]
    public void Info_json_lists_the_chain_child_first(string format)
    {
        Run("disk", "create", PathOf("base." + format), "--size", "32M");
        var (childCode, childOutput, _) = Run("disk", "child", PathOf("base." + format), PathOf("child." + format));
        Assert.Equal(0, childCode);
        Assert.Contains("differencing child of " + PathOf("base." + format), childOutput, StringComparison.Ordinal);

        var (code, output, error) = Run("disk", "info", PathOf("child." + format), "--json");

        Assert.Equal((0, ""), (code, error));
        using var json = JsonDocument.Parse(output);
        var chain = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, chain.Count);
        Assert.Equal(PathOf("child." + format), chain[0].GetProperty("path").GetString());
        Assert.Equal("differencing", chain[0].GetProperty("kind").GetString());
        Assert.Equal(format, chain[0].GetProperty("format").GetString());
        Assert.Equal(PathOf("base." + format), chain[0].GetProperty("parent").GetString());
        Assert.Equal(32L * 1024 * 1024, chain[0].GetProperty("virtualSize").GetInt64());
        Assert.Equal(0, chain[0].GetProperty("allocatedBlocks").GetInt64());
        Assert.Equal("dynamic", chain[1].GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, chain[1].GetProperty("parent").ValueKind);
    }

    [Fact]
    public void Info_table_shows_format_sizes_allocation_and_the_parent()
    {
        Run("disk", "create", PathOf("base.vhd"), "--size", "16M");
        using (var disk = DiskImage.Open(PathOf("base.vhd"), DiskOpenOptions.ReadWrite))
        {
            disk.Write(0, new byte[] { 1, 2, 3 });
            disk.Flush();
        }
        Run("disk", "child", PathOf("base.vhd"), PathOf("child.vhd"));
        var (code, output, _) = Run("disk", "info", PathOf("child.vhd"));
        Assert.Equal(0, code);
        Assert.Contains("image: " + PathOf("child.vhd"), output, StringComparison.Ordinal);
        Assert.Contains("format:        VHD differencing", output, StringComparison.Ordinal);
        Assert.Contains("  parent: " + PathOf("base.vhd"), output, StringComparison.Ordinal);
        Assert.Contains("allocated:     1 of 8 blocks (12.5%)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Info_of_a_missing_image_is_exit_1_naming_it()
    {
        var (code, _, error) = Run("disk", "info", PathOf("nope.vhd"));
        Assert.Equal(1, code);
        Assert.Equal($"pxekit disk: {PathOf("nope.vhd")}: no such image\n", error);
    }

    [Fact]
    public void Child_of_a_raw_image_is_refused_with_the_way_out()
    {
        Run("disk", "create", PathOf("base.img"), "--size", "1M");
        var (code, _, error) = Run("disk", "child", PathOf("base.img"), PathOf("child.vhd"));
        Assert.Equal(1, code);
        Assert.Contains("a raw image cannot be a parent: convert it to VHD or VHDX first", error, StringComparison.Ordinal);
        Assert.False(File.Exists(PathOf("child.vhd")));
    }

    [Theory]
    [InlineData("vhd")]
    [InlineData("vhdx")]
    public void Check_passes_a_sound_chain_with_exit_0(string format)
    {
        Run("disk", "create", PathOf("base." + format), "--size", "16M");
        Run("disk", "child", PathOf("base." + format), PathOf("child." + format));
        var (code, output, _) = Run("disk", "check", PathOf("child." + format));
        Assert.Equal(0, code);
        Assert.Contains("No problems found", output, StringComparison.Ordinal);
        Assert.Contains("chain of 2", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_fails_a_vhd_whose_footer_checksum_is_wrong_with_exit_1()
    {
        Run("disk", "create", PathOf("bad.vhd"), "--size", "16M");
        using (var file = File.OpenWrite(PathOf("bad.vhd")))
        {
            file.Seek(-512 + 0x40, SeekOrigin.End);
            file.Write([0xde, 0xad, 0xbe, 0xef]);
        }
        var (code, output, error) = Run("disk", "check", PathOf("bad.vhd"));
        Assert.Equal(1, code);
        Assert.Contains("checksum", output + error, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("vhd")]
    [InlineData("vhdx")]
    public void Merge_commits_the_child_into_the_parent_and_says_other_children_need_a_reset(string format)
    {
        Run("disk", "create", PathOf("base." + format), "--size", "16M");
        Run("disk", "child", PathOf("base." + format), PathOf("child." + format));
        using (var child = DiskImage.Open(PathOf("child." + format), DiskOpenOptions.ReadWrite))
        {
            child.Write(4096, new byte[8192]);
            child.Write(4096, Enumerable.Repeat((byte)0x5a, 8192).ToArray());
            child.Flush();
        }
        var (code, output, error) = Run("disk", "merge", PathOf("child." + format));
        Assert.Equal((0, ""), (code, error));
        Assert.Contains($"into {PathOf("base." + format)}; the child is empty again", output, StringComparison.Ordinal);
        Assert.Contains("reset them (pxekit disk reset)", output, StringComparison.Ordinal);
        using var parent = DiskImage.Open(PathOf("base." + format));
        var back = new byte[8192];
        parent.Read(4096, back);
        Assert.All(back, b => Assert.Equal(0x5a, b));
    }

    [Fact]
    public void Merge_of_an_image_without_parent_is_exit_1()
    {
        Run("disk", "create", PathOf("base.vhd"), "--size", "16M");
        var (code, _, error) = Run("disk", "merge", PathOf("base.vhd"));
        Assert.Equal(1, code);
        Assert.Contains("not a differencing image", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Convert_writes_the_flattened_chain_in_the_format_of_the_output_name()
    {
        Run("disk", "create", PathOf("base.vhd"), "--size", "16M");
        Run("disk", "child", PathOf("base.vhd"), PathOf("child.vhd"));
        using (var child = DiskImage.Open(PathOf("child.vhd"), DiskOpenOptions.ReadWrite))
        {
            child.Write(1000, "written in the child"u8);
            child.Flush();
        }
        var (code, output, error) = Run("disk", "convert", PathOf("child.vhd"), PathOf("flat.vhdx"));
        Assert.Equal((0, ""), (code, error));
        Assert.Contains("VHDX dynamic", output, StringComparison.Ordinal);
        using var flat = DiskImage.Open(PathOf("flat.vhdx"));
        Assert.Null(flat.Parent);
        var back = new byte[20];
        flat.Read(1000, back);
        Assert.Equal("written in the child"u8.ToArray(), back);
    }

    [Fact]
    public void Reset_empties_the_child_and_names_its_parent()
    {
        Run("disk", "create", PathOf("base.vhd"), "--size", "16M");
        Run("disk", "child", PathOf("base.vhd"), PathOf("child.vhd"));
        using (var child = DiskImage.Open(PathOf("child.vhd"), DiskOpenOptions.ReadWrite))
        {
            child.Write(0, new byte[] { 9, 9, 9 });
            child.Flush();
        }
        var (code, output, _) = Run("disk", "reset", PathOf("child.vhd"));
        Assert.Equal(0, code);
        Assert.Equal($"Reset {PathOf("child.vhd")}: an empty child of {PathOf("base.vhd")}.\n", output);
        using var reset = DiskImage.Open(PathOf("child.vhd"));
        Assert.Empty(reset.GetAllocatedRanges());
    }
}
