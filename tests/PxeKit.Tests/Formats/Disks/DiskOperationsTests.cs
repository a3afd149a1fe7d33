using System.Security.Cryptography;
using PxeKit.Formats.Disks;

namespace PxeKit.Tests.Formats.Disks;

/// <summary>Convert, merge and reset on real files, for every format that has children, checked against a byte model.</summary>
public sealed class DiskOperationsTests : IDisposable
{
    private const long Size = 24L * 1024 * 1024;

    private readonly string directory = Directory.CreateTempSubdirectory("pxekit-diskops-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    public static TheoryData<DiskFormat> ChildFormats => [DiskFormat.Vhd, DiskFormat.Vhdx];

    private string PathOf(string name) => Path.Combine(directory, name);

    private static string Extension(DiskFormat format) => format == DiskFormat.Raw ? ".img" : "." + format.ToString().ToLowerInvariant();

    /// <summary>A parent with data in two places and a child that overwrites part of one and adds a third.</summary>
    private (string Parent, string Child, byte[] Model) ParentAndChild(DiskFormat format)
    {
        var model = new byte[Size];
        var parent = PathOf("base" + Extension(format));
        var child = PathOf("child" + Extension(format));
        using (var disk = DiskImage.Create(parent, new DiskCreateOptions(format, Size)))
        {
            Write(disk, model, 1024 * 1024, RandomBytes(300_000, 1));
            Write(disk, model, 20L * 1024 * 1024 + 512, RandomBytes(4096, 2));
            disk.Flush();
        }
        using (var disk = DiskImage.CreateChild(parent, child))
        {
            Write(disk, model, 1024 * 1024 + 4096, RandomBytes(8192, 3));
            Write(disk, model, 9L * 1024 * 1024 - 100, RandomBytes(70_000, 4));
            disk.Flush();
        }
        return (parent, child, model);
    }

    private static void Write(VirtualDisk disk, byte[] model, long offset, byte[] data)
    {
        disk.Write(offset, data);
        data.CopyTo(model, offset);
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] ReadAll(string path)
    {
        using var disk = DiskImage.Open(path);
        var bytes = new byte[disk.Length];
        disk.Read(0, bytes);
        return bytes;
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    [Theory]
    [MemberData(nameof(ChildFormats))]
    public void Convert_flattens_a_chain_into_a_raw_image_holding_the_same_bytes(DiskFormat format)
    {
        var (_, child, model) = ParentAndChild(format);
        DiskOperations.Convert(child, PathOf("flat.img"), new DiskCreateOptions(DiskFormat.Raw, 0));
        Assert.Equal(model, File.ReadAllBytes(PathOf("flat.img")));
    }

    [Theory]
    [InlineData(DiskFormat.Vhd, false)]
    [InlineData(DiskFormat.Vhd, true)]
    [InlineData(DiskFormat.Vhdx, false)]
    [InlineData(DiskFormat.Vhdx, true)]
    public void Convert_of_a_chain_into_a_standalone_image_reads_the_same(DiskFormat format, bool isFixed)
    {
        var (_, child, model) = ParentAndChild(format);
        var output = PathOf("standalone" + Extension(format));
        DiskOperations.Convert(child, output, new DiskCreateOptions(format, 0, isFixed));
        using var disk = DiskImage.Open(output);
        Assert.Null(disk.Parent);
        Assert.Equal(isFixed ? DiskKind.Fixed : DiskKind.Dynamic, disk.Kind);
        Assert.Empty(disk.Check());
        Assert.Equal(model, ReadAll(output));
    }

    [Fact]
    public void Convert_to_a_dynamic_image_allocates_only_blocks_that_hold_data()
    {
        var raw = PathOf("mostly-zero.img");
        using (var disk = DiskImage.Create(raw, new DiskCreateOptions(DiskFormat.Raw, Size)))
        {
            disk.Write(5L * 1024 * 1024, RandomBytes(1000, 9));
            disk.Flush();
        }
        DiskOperations.Convert(raw, PathOf("small.vhd"), new DiskCreateOptions(DiskFormat.Vhd, 0));
        using var converted = DiskImage.Open(PathOf("small.vhd"));
        Assert.Equal(1, converted.GetAllocation().AllocatedBlocks);
        Assert.Equal(File.ReadAllBytes(raw), ReadAll(PathOf("small.vhd")));
    }

    [Fact]
    public void Convert_refuses_an_existing_output_and_leaves_it_and_no_temporary_file_behind()
    {
        var (_, child, _) = ParentAndChild(DiskFormat.Vhd);
        File.WriteAllText(PathOf("taken.img"), "precious");
        var error = Assert.Throws<IOException>(() =>
            DiskOperations.Convert(child, PathOf("taken.img"), new DiskCreateOptions(DiskFormat.Raw, 0)));
        Assert.Contains("already exists", error.Message, StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(PathOf("taken.img")));
        Assert.DoesNotContain(Directory.GetFiles(directory), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void Convert_keeps_the_size_of_the_disk()
    {
        var (_, child, _) = ParentAndChild(DiskFormat.Vhd);
        Assert.Throws<ArgumentException>(() =>
            DiskOperations.Convert(child, PathOf("other.img"), new DiskCreateOptions(DiskFormat.Raw, Size * 2)));
        Assert.False(File.Exists(PathOf("other.img")));
    }

    [Theory]
    [MemberData(nameof(ChildFormats))]
    public void Merge_writes_the_childs_data_into_the_parent_and_leaves_an_empty_child_showing_the_same_disk(DiskFormat format)
    {
        var (parent, child, model) = ParentAndChild(format);
        long childBytes;
        using (var disk = DiskImage.Open(child))
            childBytes = disk.GetAllocatedRanges().Sum(r => r.Length);

        var (parentPath, merged) = DiskOperations.Merge(child);

        Assert.Equal(Path.GetFullPath(parent), parentPath);
        Assert.Equal(childBytes, merged);
        Assert.Equal(model, ReadAll(parent));
        Assert.Equal(model, ReadAll(child));
        using var reopened = DiskImage.Open(child);
        Assert.Equal(DiskKind.Differencing, reopened.Kind);
        Assert.Empty(reopened.GetAllocatedRanges());
        Assert.Empty(reopened.Check());
        Assert.Empty(reopened.Parent!.Check());
    }

    [Theory]
    [MemberData(nameof(ChildFormats))]
    public void Merge_of_a_grandchild_goes_into_its_own_parent_and_leaves_the_base_untouched(DiskFormat format)
    {
        var (parent, child, model) = ParentAndChild(format);
        var grandchild = PathOf("grandchild" + Extension(format));
        using (var disk = DiskImage.CreateChild(child, grandchild))
        {
            Write(disk, model, 15L * 1024 * 1024, RandomBytes(5000, 5));
            disk.Flush();
        }
        var baseHash = Hash(parent);

        var (into, _) = DiskOperations.Merge(grandchild);

        Assert.Equal(Path.GetFullPath(child), into);
        Assert.Equal(baseHash, Hash(parent));
        Assert.Equal(model, ReadAll(child));
        Assert.Equal(model, ReadAll(grandchild));
    }

    [Theory]
    [InlineData(DiskFormat.Raw)]
    [InlineData(DiskFormat.Vhd)]
    [InlineData(DiskFormat.Vhdx)]
    public void Merge_and_reset_refuse_an_image_without_a_parent_and_do_not_touch_it(DiskFormat format)
    {
        var path = PathOf("alone" + Extension(format));
        using (var disk = DiskImage.Create(path, new DiskCreateOptions(format, Size)))
        {
            disk.Write(0, RandomBytes(4096, 6));
            disk.Flush();
        }
        var before = Hash(path);
        Assert.Contains("not a differencing image", Assert.Throws<DiskFormatException>(() => DiskOperations.Merge(path)).Message, StringComparison.Ordinal);
        Assert.Contains("not a differencing image", Assert.Throws<DiskFormatException>(() => DiskOperations.Reset(path)).Message, StringComparison.Ordinal);
        Assert.Equal(before, Hash(path));
    }

    [Theory]
    [MemberData(nameof(ChildFormats))]
    public void Reset_throws_the_childs_writes_away_and_never_changes_the_parent(DiskFormat format)
    {
        var (parent, child, _) = ParentAndChild(format);
        var parentHash = Hash(parent);
        var parentBytes = ReadAll(parent);

        DiskOperations.Reset(child);

        Assert.Equal(parentHash, Hash(parent));
        Assert.Equal(parentBytes, ReadAll(child));
        using var reopened = DiskImage.Open(child);
        Assert.Equal(Path.GetFullPath(parent), reopened.Parent!.Path);
        Assert.Empty(reopened.GetAllocatedRanges());
        Assert.DoesNotContain(Directory.GetFiles(directory), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void Chain_ranges_are_the_sorted_union_of_every_layer()
    {
        var (_, child, _) = ParentAndChild(DiskFormat.Vhd);
        using var disk = DiskImage.Open(child);
        var ranges = DiskOperations.ChainRanges(disk);
        for (var i = 1; i < ranges.Count; i++)
            Assert.True(ranges[i - 1].Offset + ranges[i - 1].Length < ranges[i].Offset, "ranges overlap or touch");
        foreach (var layer in new[] { disk, disk.Parent! })
        {
            foreach (var (offset, length) in layer.GetAllocatedRanges())
                Assert.Contains(ranges, r => r.Offset <= offset && offset + length <= r.Offset + r.Length);
        }
    }
}
