using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PxeKit.Formats.Disks;

namespace PxeKit.Cli.Commands;

/// <summary>
/// <c>pxekit disk</c>: raw, VHD and VHDX images and their differencing children, on Linux, without Hyper-V or
/// <c>vmount</c>. Every command refuses to overwrite an image it did not make; merge and reset say which images
/// they changed.
/// </summary>
internal static class DiskCommand
{
    /// <summary>Exit code for a mistake in the arguments (bad size, unknown format, missing --format).</summary>
    private const int UsageError = 2;

    /// <summary>Exit code for an image that is missing, unreadable, malformed or (check) not sound.</summary>
    private const int ImageError = 1;

    public static Command Create()
    {
        var command = new Command("disk", "Create, inspect, check, merge, convert and reset raw, VHD and VHDX disk images.");
        command.Subcommands.Add(CreateImage());
        command.Subcommands.Add(Child());
        command.Subcommands.Add(Info());
        command.Subcommands.Add(Check());
        command.Subcommands.Add(Merge());
        command.Subcommands.Add(Convert());
        command.Subcommands.Add(Reset());
        return command;
    }

    private static Option<string?> FormatOption() => new("--format", "-f")
    {
        Description = "raw, vhd or vhdx (default: from the file name's extension: .img/.raw, .vhd, .vhdx).",
    };

    private static Option<string?> BlockSizeOption() => new("--block-size")
    {
        Description = "Allocation block of a dynamic image (VHD default 2M, VHDX default 32M), e.g. 1M.",
    };

    private static Option<int> SectorSizeOption() => new("--sector-size")
    {
        Description = "Logical sector size of a VHDX: 512 (default) or 4096. VHD and raw images are always 512.",
        DefaultValueFactory = _ => 512,
    };

    private static Command CreateImage()
    {
        var image = new Argument<string>("image") { Description = "Image file to create (never overwritten)." };
        var format = FormatOption();
        var size = new Option<string>("--size", "-s") { Description = "Virtual disk size: bytes or with K, M, G, T (binary), e.g. 40G.", Required = true };
        var fixedOption = new Option<bool>("--fixed") { Description = "Allocate every block now (VHD/VHDX fixed); default is dynamic, which grows on write." };
        var blockSize = BlockSizeOption();
        var sectorSize = SectorSizeOption();
        var command = new Command("create", "Create an empty disk image.") { image, format, size, fixedOption, blockSize, sectorSize };
        command.SetAction(parse => Run(parse, () =>
        {
            var path = parse.GetValue(image)!;
            var diskFormat = ResolveFormat(parse.GetValue(format), path);
            var options = WithBlockSize(new DiskCreateOptions(diskFormat, ParseSize(parse.GetValue(size)!, "--size"), parse.GetValue(fixedOption))
            {
                LogicalSectorSize = SectorSize(parse.GetValue(sectorSize), diskFormat),
            }, parse.GetValue(blockSize));
            if (diskFormat == DiskFormat.Raw && options.Fixed)
                throw new UsageException("--fixed applies to VHD and VHDX; a raw image is always the whole disk");
            using (var disk = DiskImage.Create(path, options))
            {
                disk.Flush();
                parse.InvocationConfiguration.Output.WriteLine(
                    $"Created {path}: {Describe(disk)}, {Bytes(disk.Length)}.");
            }
            return 0;
        }));
        return command;
    }

    private static Command Child()
    {
        var parent = new Argument<string>("parent") { Description = "The image the child reads through to (opened read-only, never changed)." };
        var child = new Argument<string>("child") { Description = "Differencing image to create, in the parent's format (never overwritten)." };
        var command = new Command("child", "Create an empty differencing (copy-on-write) child of an image.") { parent, child };
        command.SetAction(parse => Run(parse, () =>
        {
            using var disk = DiskImage.CreateChild(parse.GetValue(parent)!, parse.GetValue(child)!);
            disk.Flush();
            parse.InvocationConfiguration.Output.WriteLine(
                $"Created {parse.GetValue(child)}: {Describe(disk)} child of {disk.Parent!.Path}, {Bytes(disk.Length)}.");
            return 0;
        }));
        return command;
    }

    private static Command Info()
    {
        var image = new Argument<string>("image") { Description = "Image to describe, with its parent chain." };
        var json = new Option<bool>("--json") { Description = "Print JSON (one object per image of the chain, the image first)." };
        var command = new Command("info", "Show an image's format, sizes, allocation and parent chain.") { image, json };
        command.SetAction(parse => Run(parse, () =>
        {
            using var disk = DiskImage.Open(parse.GetValue(image)!);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                output.Write(TraceFiles.Json(writer =>
                {
                    writer.WriteStartArray();
                    for (var layer = disk; layer is not null; layer = layer.Parent)
                        WriteJson(writer, layer);
                    writer.WriteEndArray();
                }));
                return 0;
            }
            var depth = 0;
            for (var layer = disk; layer is not null; layer = layer.Parent, depth++)
            {
                var indent = new string(' ', depth * 2);
                var allocation = layer.GetAllocation();
                output.WriteLine($"{indent}{(depth == 0 ? "image" : "parent")}: {layer.Path}");
                List<string[]> rows =
                [
                    ["format:", Describe(layer)],
                    ["virtual size:", Bytes(layer.Length)],
                    ["file size:", Bytes(allocation.FileSize)],
                    ["sectors:", $"{layer.LogicalSectorSize} logical, {layer.PhysicalSectorSize} physical"],
                ];
                if (allocation.BlockSize > 0)
                {
                    rows.Add(["block size:", Bytes(allocation.BlockSize)]);
                    rows.Add(["allocated:", $"{allocation.AllocatedBlocks} of {allocation.TotalBlocks} blocks ({Percent(allocation)})"]);
                }
                output.Write(TraceFiles.Table(rows, indent + "  "));
            }
            return 0;
        }));
        return command;
    }

    private static Command Check()
    {
        var image = new Argument<string>("image") { Description = "Image to check, with its parent chain." };
        var command = new Command("check", "Check an image and its parents for consistency; exit 0 when sound, 1 when not.") { image };
        command.SetAction(parse => Run(parse, () =>
        {
            using var disk = DiskImage.Open(parse.GetValue(image)!);
            var output = parse.InvocationConfiguration.Output;
            var problems = 0;
            for (var layer = disk; layer is not null; layer = layer.Parent)
            {
                var found = layer.Check();
                problems += found.Count;
                foreach (var problem in found)
                    output.WriteLine($"{layer.Path}: {problem}");
            }
            if (problems > 0)
            {
                output.WriteLine($"{problems} problem{(problems == 1 ? "" : "s")} found.");
                return ImageError;
            }
            output.WriteLine($"No problems found in {parse.GetValue(image)} ({Describe(disk)}{(disk.Parent is null ? "" : $", chain of {ChainLength(disk)}")}).");
            return 0;
        }));
        return command;
    }

    private static Command Merge()
    {
        var child = new Argument<string>("child") { Description = "Differencing image whose writes are committed into its parent." };
        var command = new Command("merge", "Commit a child's writes into its parent, then empty the child.") { child };
        command.SetAction(parse => Run(parse, () =>
        {
            var (parentPath, merged) = DiskOperations.Merge(parse.GetValue(child)!);
            var output = parse.InvocationConfiguration.Output;
            output.WriteLine($"Merged {Bytes(merged)} of {parse.GetValue(child)} into {parentPath}; the child is empty again.");
            if (merged > 0)
                output.WriteLine($"Other children of {parentPath} were made from its old content and now show a mix of old and new: reset them (pxekit disk reset).");
            return 0;
        }));
        return command;
    }

    private static Command Convert()
    {
        var input = new Argument<string>("input") { Description = "Image to read, through its parent chain." };
        var outputPath = new Argument<string>("output") { Description = "Image to write (never overwritten)." };
        var format = FormatOption();
        var fixedOption = new Option<bool>("--fixed") { Description = "Write a fixed VHD/VHDX (every block allocated) instead of a dynamic one." };
        var blockSize = BlockSizeOption();
        var sectorSize = SectorSizeOption();
        var command = new Command("convert", "Write what an image shows (its chain flattened) into a new image of any format.")
        {
            input, outputPath, format, fixedOption, blockSize, sectorSize,
        };
        command.SetAction(parse => Run(parse, () =>
        {
            var path = parse.GetValue(outputPath)!;
            var diskFormat = ResolveFormat(parse.GetValue(format), path);
            var options = WithBlockSize(new DiskCreateOptions(diskFormat, 0, parse.GetValue(fixedOption))
            {
                LogicalSectorSize = SectorSize(parse.GetValue(sectorSize), diskFormat),
            }, parse.GetValue(blockSize));
            DiskOperations.Convert(parse.GetValue(input)!, path, options);
            using var written = DiskImage.Open(path);
            parse.InvocationConfiguration.Output.WriteLine(
                $"Wrote {path}: {Describe(written)}, {Bytes(written.Length)}, in a file of {Bytes(written.GetAllocation().FileSize)}.");
            return 0;
        }));
        return command;
    }

    private static Command Reset()
    {
        var child = new Argument<string>("child") { Description = "Differencing image to empty; it stays a child of the same parent." };
        var command = new Command("reset", "Throw away a child's writes: make it an empty child of its parent again.") { child };
        command.SetAction(parse => Run(parse, () =>
        {
            DiskOperations.Reset(parse.GetValue(child)!);
            using var disk = DiskImage.Open(parse.GetValue(child)!);
            parse.InvocationConfiguration.Output.WriteLine($"Reset {parse.GetValue(child)}: an empty child of {disk.Parent!.Path}.");
            return 0;
        }));
        return command;
    }

    private static int Run(ParseResult parse, Func<int> action)
    {
        var error = parse.InvocationConfiguration.Error;
        try
        {
            return action();
        }
        catch (UsageException e)
        {
            error.WriteLine($"pxekit disk: {e.Message}");
            return UsageError;
        }
        catch (ArgumentException e)
        {
            // The formats throw these for sizes and block sizes they cannot hold; the message names the limit.
            error.WriteLine($"pxekit disk: {e.Message}");
            return UsageError;
        }
        catch (DiskFormatException e)
        {
            error.WriteLine($"pxekit disk: {e.Message}");
            return ImageError;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            error.WriteLine($"pxekit disk: {e.Message}");
            return ImageError;
        }
    }

    /// <summary>The format named by --format, else the one the file name's extension says.</summary>
    internal static DiskFormat ResolveFormat(string? name, string path)
    {
        if (name is not null)
        {
            return name.ToLowerInvariant() switch
            {
                "raw" or "img" => DiskFormat.Raw,
                "vhd" or "vpc" => DiskFormat.Vhd,
                "vhdx" => DiskFormat.Vhdx,
                _ => throw new UsageException($"unknown format '{name}': use raw, vhd or vhdx"),
            };
        }
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".vhd" => DiskFormat.Vhd,
            ".vhdx" => DiskFormat.Vhdx,
            ".img" or ".raw" => DiskFormat.Raw,
            _ => throw new UsageException($"cannot tell the format from the name {Path.GetFileName(path)}: add --format raw|vhd|vhdx"),
        };
    }

    /// <summary>"40G", "512M", "1T", "1048576", "10GiB": binary multiples, as qemu-img and Hyper-V count.</summary>
    internal static long ParseSize(string text, string option)
    {
        var trimmed = text.Trim();
        var end = trimmed.Length;
        while (end > 0 && char.IsLetter(trimmed[end - 1]))
            end--;
        var unit = trimmed[end..].ToUpperInvariant();
        var shift = unit switch
        {
            "" or "B" => 0,
            "K" or "KB" or "KIB" => 10,
            "M" or "MB" or "MIB" => 20,
            "G" or "GB" or "GIB" => 30,
            "T" or "TB" or "TIB" => 40,
            _ => -1,
        };
        if (shift < 0 || !decimal.TryParse(trimmed[..end], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || number <= 0)
            throw new UsageException($"{option} '{text}' is not a size: use bytes or a number with K, M, G or T, e.g. 40G");
        var bytes = number * (1L << shift);
        if (bytes > long.MaxValue / 2 || bytes != decimal.Truncate(bytes))
            throw new UsageException($"{option} '{text}' is not a whole number of bytes that a disk can have");
        return (long)bytes;
    }

    private static DiskCreateOptions WithBlockSize(DiskCreateOptions options, string? text)
    {
        if (text is null)
            return options;
        var size = ParseSize(text, "--block-size");
        if (size > int.MaxValue)
            throw new UsageException($"--block-size {text} is larger than any format allows (VHDX: 256M)");
        return options.Format switch
        {
            DiskFormat.Vhd => options with { VhdBlockSize = (int)size },
            DiskFormat.Vhdx => options with { VhdxBlockSize = (int)size },
            _ => throw new UsageException("--block-size applies to dynamic VHD and VHDX images; a raw image has no blocks"),
        };
    }

    private static int SectorSize(int size, DiskFormat format)
    {
        if (size is not (512 or 4096))
            throw new UsageException($"--sector-size {size}: use 512 or 4096");
        if (size != 512 && format != DiskFormat.Vhdx)
            throw new UsageException($"--sector-size 4096 needs VHDX; {format.ToString().ToUpperInvariant()} sectors are 512 bytes");
        return size;
    }

    private static void WriteJson(Utf8JsonWriter writer, VirtualDisk disk)
    {
        var allocation = disk.GetAllocation();
        writer.WriteStartObject();
        writer.WriteString("path", disk.Path);
        writer.WriteString("format", disk.Format.ToString().ToLowerInvariant());
        writer.WriteString("kind", disk.Kind.ToString().ToLowerInvariant());
        writer.WriteNumber("virtualSize", disk.Length);
        writer.WriteNumber("fileSize", allocation.FileSize);
        writer.WriteNumber("logicalSectorSize", disk.LogicalSectorSize);
        writer.WriteNumber("physicalSectorSize", disk.PhysicalSectorSize);
        writer.WriteNumber("blockSize", allocation.BlockSize);
        writer.WriteNumber("totalBlocks", allocation.TotalBlocks);
        writer.WriteNumber("allocatedBlocks", allocation.AllocatedBlocks);
        if (disk.Parent is { } parent)
            writer.WriteString("parent", parent.Path);
        else
            writer.WriteNull("parent");
        writer.WriteEndObject();
    }

    private static string Describe(VirtualDisk disk) => disk.Format == DiskFormat.Raw
        ? "raw"
        : $"{disk.Format.ToString().ToUpperInvariant()} {disk.Kind.ToString().ToLowerInvariant()}";

    private static int ChainLength(VirtualDisk disk)
    {
        var count = 0;
        for (var layer = disk; layer is not null; layer = layer.Parent)
            count++;
        return count;
    }

    private static string Percent(DiskAllocation allocation) => allocation.TotalBlocks == 0
        ? "0%"
        : (100.0 * allocation.AllocatedBlocks / allocation.TotalBlocks).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    /// <summary>Exact bytes, with a binary unit beside them when that is shorter to read.</summary>
    internal static string Bytes(long bytes)
    {
        string[] units = ["KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = -1;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        var exact = bytes.ToString("N0", CultureInfo.InvariantCulture) + " bytes";
        return unit < 0 ? exact : $"{value.ToString("0.##", CultureInfo.InvariantCulture)} {units[unit]} ({exact})";
    }

    /// <summary>A mistake in the command line, reported with exit code 2.</summary>
    private sealed class UsageException(string message) : Exception(message);
}
