using System.Text.Json;
using PxeKit.EndToEnd.Infrastructure;
using PxeKit.Formats.Disks;

namespace PxeKit.EndToEnd.Disks;

/// <summary>
/// Our VHD reader and writer against independent implementations: qemu (block/vpc.c) for fixed and dynamic images,
/// libvhdi (vhdiinfo, pyvhdi) for those and for differencing children, which qemu cannot read.
/// </summary>
public sealed class VhdInteropTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private readonly string directory = Directory.CreateTempSubdirectory("pxekit-vhd-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static string QemuImg => ExternalTool.Require("qemu-img", "qemu-utils");
    private static string QemuIo => ExternalTool.Require("qemu-io", "qemu-utils");
    private static string VhdiInfo => ExternalTool.Require("vhdiinfo", "libvhdi-utils");

    private static async Task<ExternalTool.Result> Run(string program, params string[] arguments)
    {
        var result = await ExternalTool.RunAsync(program, arguments, Timeout);
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {result.Describe()}");
        return result;
    }

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<long> QemuVirtualSize(string image)
    {
        var info = await Run(QemuImg, "info", "-f", "vpc", "--output=json", image);
        using var json = JsonDocument.Parse(info.StandardOutput);
        return json.RootElement.GetProperty("virtual-size").GetInt64();
    }

    [Theory]
    [InlineData("dynamic")]
    [InlineData("fixed")]
    public async Task ImagesQemuMakesReadRightInOurs(string subformat)
    {
        var image = Path.Combine(directory, $"qemu-{subformat}.vhd");
        await Run(QemuImg, "create", "-f", "vpc", "-o", $"subformat={subformat}", image, "20M");
        await Run(QemuIo, "-f", "vpc", "-c", "write -P 0xab 1M 64k", "-c", "write -P 0xcd 5000k 4k", "-c", "write -P 0x11 19M 512", image);
        var qemuSize = await QemuVirtualSize(image);

        using var disk = DiskImage.Open(image);
        Assert.Equal(DiskFormat.Vhd, disk.Format);
        Assert.Equal(subformat == "fixed" ? DiskKind.Fixed : DiskKind.Dynamic, disk.Kind);
        Assert.Equal(qemuSize, disk.Length);
        AssertFilled(disk, 1 << 20, 65536, 0xab);
        AssertFilled(disk, 5000 * 1024, 4096, 0xcd);
        AssertFilled(disk, 19 << 20, 512, 0x11);
        AssertFilled(disk, 0, 65536, 0);
        AssertFilled(disk, 10 << 20, 1 << 20, 0);
        Assert.Empty(disk.Check());
    }

    [Fact]
    public async Task OurWritesIntoAQemuImageCompareEqualInQemu()
    {
        // Allocation on qemu's layout (its BAT, its first free offset), then qemu reads the result.
        var image = Path.Combine(directory, "qemu-then-ours.vhd");
        var reference = Path.Combine(directory, "reference.raw");
        await Run(QemuImg, "create", "-f", "vpc", "-o", "subformat=dynamic", image, "20M");
        await Run(QemuIo, "-f", "vpc", "-c", "write -P 0xab 1M 64k", image);
        var size = await QemuVirtualSize(image);
        using (var raw = new FileStream(reference, FileMode.Create))
        {
            raw.SetLength(size);
            raw.Position = 1 << 20;
            raw.Write(Enumerable.Repeat((byte)0xab, 65536).ToArray());
            using var disk = DiskImage.Open(image, DiskOpenOptions.ReadWrite);
            WriteBoth(disk, raw, (1 << 20) + 1000, Pattern(3000, 5));
            WriteBoth(disk, raw, 9L << 20, Pattern(100_000, 6));
            WriteBoth(disk, raw, size - 512, Pattern(512, 7));
            disk.Flush();
        }
        var compare = await Run(QemuImg, "compare", "-f", "vpc", "-F", "raw", image, reference);
        Assert.Contains("Images are identical", compare.StandardOutput, StringComparison.Ordinal);
        await Run(VhdiInfo, image);
    }

    private static void AssertFilled(VirtualDisk disk, long offset, int length, byte value)
    {
        var bytes = new byte[length];
        disk.Read(offset, bytes);
        var bad = Array.FindIndex(bytes, b => b != value);
        Assert.True(bad < 0, $"byte {offset + bad} is 0x{(bad < 0 ? 0 : bytes[bad]):x2}, expected 0x{value:x2}");
    }

    /// <summary>Writes the same data to one of ours and to a raw reference file.</summary>
    private static void WriteBoth(VirtualDisk disk, FileStream raw, long offset, byte[] data)
    {
        disk.Write(offset, data);
        raw.Position = offset;
        raw.Write(data);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ImagesWeMakeCompareEqualInQemuAndPassVhdiinfo(bool isFixed)
    {
        // 20 MiB + 3 sectors is not a CHS product: qemu sees exactly this only because our creator is 'qem2'.
        const long size = (20L << 20) + 3 * 512;
        var image = Path.Combine(directory, isFixed ? "ours-fixed.vhd" : "ours-dynamic.vhd");
        var reference = Path.Combine(directory, "reference.raw");
        using (var raw = new FileStream(reference, FileMode.Create))
        {
            raw.SetLength(size);
            using var disk = DiskImage.Create(image, new DiskCreateOptions(DiskFormat.Vhd, size, isFixed));
            WriteBoth(disk, raw, 0, Pattern(70000, 1));
            WriteBoth(disk, raw, (3L << 20) - 100, Pattern(5000, 2));
            WriteBoth(disk, raw, size - 1000, Pattern(1000, 3));
            WriteBoth(disk, raw, 7777, Pattern(33, 4));
            disk.Flush();
        }

        Assert.Equal(size, await QemuVirtualSize(image));
        var compare = await Run(QemuImg, "compare", "-f", "vpc", "-F", "raw", image, reference);
        Assert.Contains("Images are identical", compare.StandardOutput, StringComparison.Ordinal);

        var info = await Run(VhdiInfo, image);
        Assert.Contains(isFixed ? "Fixed" : "Dynamic", info.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{size} bytes", info.StandardOutput, StringComparison.Ordinal);
        await AssertPyvhdiReads(image, null, reference);
    }

    [Fact]
    public async Task ChildrenWeMakeReadThroughTheirParentInLibvhdi()
    {
        const long size = 24L << 20;
        var parentPath = Path.Combine(directory, "golden.vhd");
        var childPath = Path.Combine(directory, "client-01.vhd");
        var reference = Path.Combine(directory, "expected.raw");
        using (var raw = new FileStream(reference, FileMode.Create))
        {
            raw.SetLength(size);
            using (var parent = DiskImage.Create(parentPath, new DiskCreateOptions(DiskFormat.Vhd, size)))
            {
                WriteBoth(parent, raw, 0, Pattern(3 << 20, 10));
                WriteBoth(parent, raw, 10L << 20, Pattern(1 << 20, 11));
                parent.Flush();
            }
            using var child = DiskImage.CreateChild(parentPath, childPath);
            // Partial sectors over parent data, a write across a block boundary, one into a block the parent lacks.
            WriteBoth(child, raw, 1000, Pattern(100, 20));
            WriteBoth(child, raw, (2L << 20) - 3000, Pattern(9000, 21));
            WriteBoth(child, raw, (10L << 20) + 4096 * 3 + 17, Pattern(511, 22));
            WriteBoth(child, raw, 20L << 20, Pattern(65536, 23));
            child.Flush();
        }

        var info = await Run(VhdiInfo, childPath);
        Assert.Contains("Differential", info.StandardOutput, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("golden.vhd", info.StandardOutput, StringComparison.Ordinal);
        await AssertPyvhdiReads(childPath, parentPath, reference);

        // And ours agrees, reopened from the files.
        using var reopened = DiskImage.Open(childPath);
        var expected = await File.ReadAllBytesAsync(reference);
        var actual = new byte[size];
        reopened.Read(0, actual);
        Assert.True(expected.AsSpan().SequenceEqual(actual), "our reader differs from the reference");
    }

    private async Task AssertPyvhdiReads(string image, string? parent, string reference)
    {
        var python = ExternalTool.RequireFile("/usr/bin/python3", "python3");
        var script = Path.Combine(directory, "read.py");
        await File.WriteAllTextAsync(script, """
            import sys
            import pyvhdi
            f = pyvhdi.file()
            f.open(sys.argv[1])
            if sys.argv[2] != "-":
                p = pyvhdi.file()
                p.open(sys.argv[2])
                f.set_parent(p)
            expected = open(sys.argv[3], "rb").read()
            if f.get_media_size() != len(expected):
                print("media size", f.get_media_size(), "expected", len(expected))
                sys.exit(1)
            step = 1 << 20
            for offset in range(0, len(expected), step):
                want = expected[offset:offset + step]
                got = f.read_buffer_at_offset(len(want), offset)
                if got != want:
                    first = next(i for i in range(len(want)) if i >= len(got) or got[i] != want[i])
                    print("differs at", offset + first)
                    sys.exit(1)
            print("identical")
            """);
        var result = await ExternalTool.RunAsync(python, [script, image, parent ?? "-", reference], Timeout);
        Assert.True(result.ExitCode == 0 && result.StandardOutput.Contains("identical", StringComparison.Ordinal),
            $"pyvhdi (Debian's python3-libvhdi) read {image}: {result.Describe()}");
    }
}
