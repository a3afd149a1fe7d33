using System.Text.Json;
using PxeKit.EndToEnd.Infrastructure;
using PxeKit.Formats.Disks;

namespace PxeKit.EndToEnd.Disks;

/// <summary>
/// The real `pxekit disk` executable on images qemu made and reads back: what a sysadmin does with a golden image
/// and a lab child, checked by qemu-img (fixed and dynamic VHD and VHDX) and libvhdi (children).
/// </summary>
public sealed class DiskCommandInteropTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private readonly string directory = Directory.CreateTempSubdirectory("pxekit-diskcli-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static string QemuImg => ExternalTool.Require("qemu-img", "qemu-utils");
    private static string QemuIo => ExternalTool.Require("qemu-io", "qemu-utils");
    private static string VhdiInfo => ExternalTool.Require("vhdiinfo", "libvhdi-utils");

    private string PathOf(string name) => Path.Combine(directory, name);

    private static async Task<ExternalTool.Result> Must(string program, params string[] arguments)
    {
        var result = await ExternalTool.RunAsync(program, arguments, Timeout);
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {result.Describe()}");
        return result;
    }

    private static Task<ExternalTool.Result> Pxekit(params string[] arguments) =>
        ExternalTool.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "pxekit.dll"), "disk", .. arguments], Timeout);

    private static async Task<ExternalTool.Result> MustPxekit(params string[] arguments)
    {
        var result = await Pxekit(arguments);
        Assert.True(result.ExitCode == 0, $"pxekit disk {string.Join(' ', arguments)}: {result.Describe()}");
        return result;
    }

    /// <summary>Writes into the image (through its chain) and into a raw model of the same disk.</summary>
    private static void WriteBoth(string image, FileStream model, long offset, byte value, int length)
    {
        var data = Enumerable.Repeat(value, length).ToArray();
        using (var disk = DiskImage.Open(image, DiskOpenOptions.ReadWrite))
        {
            disk.Write(offset, data);
            disk.Flush();
        }
        model.Position = offset;
        model.Write(data);
        model.Flush();
    }

    [Theory]
    [InlineData("vpc", "vhd")]
    [InlineData("vhdx", "vhdx")]
    public async Task A_child_of_a_qemu_made_golden_image_merges_converts_and_resets_and_qemu_reads_every_result(string qemuFormat, string extension)
    {
        var golden = PathOf("golden." + extension);
        var child = PathOf("lab-pc." + extension);
        var model = PathOf("model.raw");
        await Must(QemuImg, "create", "-f", qemuFormat, golden, "64M");
        await Must(QemuIo, "-f", qemuFormat, "-c", "write -P 0x61 0 1M", "-c", "write -P 0x62 40M 3M", golden);
        await Must(QemuImg, "convert", "-f", qemuFormat, "-O", "raw", golden, model);

        var created = await MustPxekit("child", golden, child);
        Assert.Contains("differencing child of " + golden, created.StandardOutput, StringComparison.Ordinal);
        using (var raw = new FileStream(model, FileMode.Open))
        {
            WriteBoth(child, raw, 512 * 1024, 0x71, 4096);
            WriteBoth(child, raw, 41L * 1024 * 1024 + 17, 0x72, 100_000);
            WriteBoth(child, raw, 60L * 1024 * 1024, 0x73, 2 * 1024 * 1024);
        }
        var goldenBefore = await File.ReadAllBytesAsync(golden);

        // libvhdi sees the link we wrote. Only for VHD so far: libvhdi 20210425 does not find the parent in the
        // locator of our VHDX children (parent identifier all zeros; pyvhdi set_parent: "mismatch in identifier"),
        // an open defect of issue 11 that the VHDX interop tests are to pin down.
        if (qemuFormat == "vpc")
        {
            var info = await Must(VhdiInfo, child);
            Assert.Contains("golden." + extension, info.StandardOutput, StringComparison.Ordinal);
        }
        await MustPxekit("check", child);

        // convert flattens the chain; qemu reads the flat image as the model.
        await MustPxekit("convert", child, PathOf("flat." + extension));
        await Must(QemuImg, "compare", "-f", qemuFormat, "-F", "raw", PathOf("flat." + extension), model);
        Assert.Equal(goldenBefore, await File.ReadAllBytesAsync(golden));

        // merge commits the child into the golden image, which qemu then reads as the model and finds sound.
        var merged = await MustPxekit("merge", child);
        Assert.Contains("the child is empty again", merged.StandardOutput, StringComparison.Ordinal);
        await Must(QemuImg, "compare", "-f", qemuFormat, "-F", "raw", golden, model);
        if (qemuFormat == "vhdx")
            await Must(QemuImg, "check", "-f", "vhdx", golden);
        var afterMerge = await MustPxekit("info", child, "--json");
        using (var json = JsonDocument.Parse(afterMerge.StandardOutput))
            Assert.Equal(0, json.RootElement[0].GetProperty("allocatedBlocks").GetInt64());

        // reset throws away what the child wrote since; the golden image does not change.
        using (var raw = new FileStream(PathOf("scratch.raw"), FileMode.Create))
        {
            raw.SetLength(64L * 1024 * 1024);
            WriteBoth(child, raw, 0, 0x7f, 8192);
        }
        var goldenAfterMerge = await File.ReadAllBytesAsync(golden);
        await MustPxekit("reset", child);
        Assert.Equal(goldenAfterMerge, await File.ReadAllBytesAsync(golden));
        await MustPxekit("convert", child, PathOf("after-reset.img"));
        await Must(QemuImg, "compare", "-f", "raw", "-F", "raw", PathOf("after-reset.img"), model);
    }

    [Theory]
    [InlineData("vpc", "vhd", "dynamic")]
    [InlineData("vpc", "vhd", "fixed")]
    [InlineData("vhdx", "vhdx", "dynamic")]
    [InlineData("vhdx", "vhdx", "fixed")]
    public async Task Images_pxekit_creates_are_read_by_qemu_at_the_size_pxekit_reports(string qemuFormat, string extension, string kind)
    {
        var image = PathOf($"new-{kind}.{extension}");
        string[] fixedFlag = kind == "fixed" ? ["--fixed"] : [];
        await MustPxekit(["create", image, "--size", "100M", .. fixedFlag]);
        await Must(QemuIo, "-f", qemuFormat, "-c", "write -P 0x42 7M 1M", image);

        var ours = await MustPxekit("info", image, "--json");
        var qemu = await Must(QemuImg, "info", "-f", qemuFormat, "--output=json", image);
        using var oursJson = JsonDocument.Parse(ours.StandardOutput);
        using var qemuJson = JsonDocument.Parse(qemu.StandardOutput);
        Assert.Equal(100L * 1024 * 1024, oursJson.RootElement[0].GetProperty("virtualSize").GetInt64());
        Assert.Equal(qemuJson.RootElement.GetProperty("virtual-size").GetInt64(), oursJson.RootElement[0].GetProperty("virtualSize").GetInt64());
        Assert.Equal(kind, oursJson.RootElement[0].GetProperty("kind").GetString());
        await MustPxekit("check", image);
        await MustPxekit("convert", image, PathOf("copy.img"));
        await Must(QemuImg, "compare", "-f", qemuFormat, "-F", "raw", image, PathOf("copy.img"));
    }

    [Fact]
    public async Task Check_of_a_truncated_image_fails_with_a_sentence_and_exit_1()
    {
        var image = PathOf("cut.vhdx");
        await MustPxekit("create", image, "--size", "64M");
        await Must(QemuIo, "-f", "vhdx", "-c", "write -P 0x42 0 1M", image);
        using (var file = new FileStream(image, FileMode.Open))
            file.SetLength(file.Length / 2);
        var result = await Pxekit("check", image);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("pxekit disk: " + image, result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
    }
}
