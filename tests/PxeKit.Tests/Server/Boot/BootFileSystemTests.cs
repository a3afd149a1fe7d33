using PxeKit.Server.Boot;

namespace PxeKit.Tests.Server.Boot;

public sealed class BootFileSystemTests : IDisposable
{
    private readonly string _base = Directory.CreateTempSubdirectory("pxekit-bfs-").FullName;
    private readonly string _root;

    public BootFileSystemTests()
    {
        _root = Path.Combine(_base, "root");
        Directory.CreateDirectory(Path.Combine(_root, "boot", "x64"));
        File.WriteAllText(Path.Combine(_root, "boot", "bcd"), "bcd");
        File.WriteAllText(Path.Combine(_root, "boot", "x64", "wdsnbp.com"), "nbp");
        File.WriteAllText(Path.Combine(_root, "undionly.kpxe"), "ipxe");
        File.WriteAllText(Path.Combine(_base, "secret"), "outside");
    }

    public void Dispose() => Directory.Delete(_base, recursive: true);

    private BootFileSystem Files(bool caseInsensitive = true, params RemapRule[] remaps) => new(_root, remaps, caseInsensitive);

    [Theory]
    [InlineData("undionly.kpxe", "undionly.kpxe")]
    [InlineData("/undionly.kpxe", "undionly.kpxe")]
    [InlineData("boot/bcd", "boot/bcd")]
    [InlineData("\\Boot\\BCD", "boot/bcd")]           // Windows bootmgr (the seeds' top failure)
    [InlineData("/boot\\x64\\wdsnbp.com", "boot/x64/wdsnbp.com")] // WDS ReadFilter style (T2)
    [InlineData("C:\\boot\\bcd", "boot/bcd")]
    [InlineData("boot//./bcd", "boot/bcd")]
    [InlineData("BOOT/X64/WDSNBP.COM", "boot/x64/wdsnbp.com")]
    public void Names_that_boot_clients_send_are_served(string requested, string served)
    {
        var lookup = Files().Resolve(requested);
        Assert.True(lookup.IsFound, lookup.Reason);
        Assert.Equal(served, lookup.MappedName);
    }

    [Fact]
    public void Case_insensitive_match_is_reported_and_can_be_switched_off()
    {
        Assert.True(Files().Resolve("\\Boot\\BCD").MatchedIgnoringCase);
        Assert.False(Files().Resolve("boot/bcd").MatchedIgnoringCase);
        var strict = Files(caseInsensitive: false).Resolve("\\Boot\\BCD");
        Assert.Equal(BootFileStatus.NotFound, strict.Status);
    }

    [Fact]
    public void Exact_name_wins_over_a_case_insensitive_one()
    {
        File.WriteAllText(Path.Combine(_root, "boot", "BCD"), "upper");
        var lookup = Files().Resolve("boot/BCD");
        Assert.Equal("boot/BCD", lookup.MappedName);
        Assert.False(lookup.MatchedIgnoringCase);
    }

    [Theory]
    [InlineData("../secret")]
    [InlineData("../../../../etc/passwd")]
    [InlineData("..\\..\\etc\\passwd")]
    [InlineData("sub/..\\..\\secret")]
    [InlineData("boot/..")]
    [InlineData("..")]
    [InlineData("/boot/../../secret")]
    [InlineData("C:..\\secret")]
    public void Names_that_climb_are_refused(string requested)
    {
        var lookup = Files().Resolve(requested);
        Assert.Equal(BootFileStatus.Refused, lookup.Status);
        Assert.Contains("leaves the boot root", lookup.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/etc/passwd")]      // absolute: taken relative to the root, where it does not exist
    [InlineData("%2e%2e/secret")]    // TFTP has no %-decoding (T4)
    [InlineData("．．/secret")]        // fullwidth dots are not dots
    [InlineData("\\\\host\\share\\secret")]
    public void Names_that_look_like_escapes_stay_inside_the_root(string requested)
    {
        var lookup = Files().Resolve(requested);
        Assert.NotEqual(BootFileStatus.Found, lookup.Status);
    }

    [Theory]
    [InlineData("a\0b")]
    [InlineData("boot/bcd\n")]
    [InlineData("\u001b[31m")]
    public void Control_characters_are_refused(string requested) =>
        Assert.Equal(BootFileStatus.Refused, Files().Resolve(requested).Status);

    [Fact]
    public void Over_long_and_over_deep_names_are_refused()
    {
        Assert.Equal(BootFileStatus.Refused, Files().Resolve(new string('a', 2000)).Status);
        Assert.Equal(BootFileStatus.Refused, Files().Resolve(string.Join('/', Enumerable.Repeat("d", 40))).Status);
    }

    [Fact]
    public void Symlink_to_outside_the_root_is_refused()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "shadow"), Path.Combine(_base, "secret"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "etc"), "/etc");

        Assert.Equal(BootFileStatus.Refused, Files().Resolve("shadow").Status);
        Assert.Equal(BootFileStatus.Refused, Files().Resolve("etc/passwd").Status);
        Assert.Equal(BootFileStatus.Refused, Files().Resolve("ETC/passwd").Status);
    }

    [Fact]
    public void Symlink_inside_the_root_is_followed()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "pxelinux.0"), Path.Combine(_root, "undionly.kpxe"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "Boot"), Path.Combine(_root, "boot"));

        var lookup = Files().Resolve("pxelinux.0");
        Assert.True(lookup.IsFound, lookup.Reason);
        Assert.Equal("undionly.kpxe", lookup.MappedName);
        Assert.True(Files().Resolve("Boot/bcd").IsFound);
    }

    [Fact]
    public void Directory_and_root_are_not_files()
    {
        Assert.Equal(BootFileStatus.NotFound, Files().Resolve("boot").Status);
        Assert.Equal(BootFileStatus.NotFound, Files().Resolve("/").Status);
        Assert.Equal(BootFileStatus.NotFound, Files().Resolve("").Status);
        Assert.Equal(BootFileStatus.NotFound, Files().Resolve("\\").Status);
    }

    [Fact]
    public void Remap_rules_apply_in_order_before_the_mapping()
    {
        var files = Files(true,
            RemapRule.Create("^pxelinux\\.cfg\\\\", "pxelinux.cfg/"),
            RemapRule.Create("^(.*)\\.kpxe$", "$1.kpxe"),
            RemapRule.Create("^ipxe$", "undionly.kpxe"));
        Assert.Equal("undionly.kpxe", files.Resolve("ipxe").MappedName);
    }

    [Fact]
    public void Remap_cannot_be_used_to_climb_out()
    {
        var files = Files(true, RemapRule.Create("^x$", "../secret"));
        Assert.Equal(BootFileStatus.Refused, files.Resolve("x").Status);
    }
}

public sealed class GeneratedFileTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("pxekit-gen-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Generated_file_is_found_the_way_windows_asks_and_wins_over_a_file_on_disk()
    {
        Directory.CreateDirectory(Path.Combine(_root, "boot"));
        File.WriteAllText(Path.Combine(_root, "boot", "bcd"), "stale copy");
        var files = new BootFileSystem(_root, [], caseInsensitive: true, new Dictionary<string, byte[]> { ["/boot/bcd"] = [1, 2, 3] });

        var lookup = files.Resolve("\\Boot\\BCD");

        Assert.True(lookup.IsFound);
        Assert.Equal("boot/bcd", lookup.MappedName);
        Assert.Equal([1, 2, 3], lookup.Content);
        Assert.Null(lookup.FullPath);
    }

    [Fact]
    public void Generated_file_is_matched_exactly_when_case_insensitive_lookup_is_off()
    {
        var files = new BootFileSystem(_root, [], caseInsensitive: false, new Dictionary<string, byte[]> { ["boot/bcd"] = [1] });
        Assert.True(files.Resolve("boot/bcd").IsFound);
        Assert.False(files.Resolve("Boot/BCD").IsFound);
    }
}
