using System.Buffers.Binary;
using PxeKit.Formats.Bcd;
using PxeKit.Server.Boot;
using PxeKit.Server.Boot.Diagnosis;
using PxeKit.Server.Hosting;
using PxeKit.Server.Options;

namespace PxeKit.Tests.Server.Boot.Diagnosis;

/// <summary>A temporary boot root with files written by the test, and the configuration checks run against it.</summary>
internal sealed class DiagnosisRoot : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pxekit-doctor-").FullName;

    public DiagnosisRoot() => Directory.CreateDirectory(Root);

    public string Root => Path.Combine(_directory, "boot");

    /// <summary>Stands for Debian's packages: files <c>pxekit serve</c> would copy in, here only when a test writes them.</summary>
    public string Packages => Path.Combine(_directory, "packages");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public DiagnosisRoot Write(string relativePath, byte[] content)
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return this;
    }

    public DiagnosisRoot Write(string relativePath, string text = "x") => Write(relativePath, System.Text.Encoding.ASCII.GetBytes(text));

    public string WritePackageFile(string name, byte[] content)
    {
        var path = Path.Combine(Packages, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    public PxeKitOptions Options(string yaml)
    {
        var options = ConfigFile.Parse(yaml);
        options.Root = Root;
        options.Ipxe.SourceDirectory = Packages;
        return options;
    }

    /// <summary>The checks with <paramref name="installable"/> standing for what serve copies in (nothing by default:
    /// the machine running the tests may or may not have Debian's packages).</summary>
    public IReadOnlyList<Finding> Check(string yaml, IReadOnlyDictionary<string, string>? installable = null)
    {
        var options = Options(yaml);
        var files = BootConfiguration.Create(options, serverAddress: System.Net.IPAddress.Loopback).Files;
        return ConfigurationCheck.Run(options, files, installable ?? new Dictionary<string, string>());
    }

    /// <summary>The first bytes of a UEFI application for <paramref name="machine"/> (0x8664 x64, 0xAA64 arm64): a DOS
    /// header pointing at a PE header, which is all the check reads.</summary>
    public static byte[] PeImage(ushort machine)
    {
        var bytes = new byte[0x100];
        bytes[0] = (byte)'M';
        bytes[1] = (byte)'Z';
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(0x3C), 0x80);
        "PE\0\0"u8.CopyTo(bytes.AsSpan(0x80));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(0x84), machine);
        return bytes;
    }

    /// <summary>A BIOS NBP starts with code, not a header (undionly.kpxe begins with a jump).</summary>
    public static readonly byte[] BiosImage = [0xEB, 0x3C, 0x90, 0x00, 0x00, 0x00];

    public static byte[] WinPeBcd(BcdFirmware firmware) => BcdRecipes.WinPe(new WinPeBcdOptions { Firmware = firmware });

    public static byte[] WindowsDiskBcd() => BcdRecipes.Windows(new WindowsBcdOptions());
}

internal static class FindingAssertions
{
    public static Finding Single(this IReadOnlyList<Finding> findings, FindingSeverity severity, string fragment)
    {
        var matching = findings.Where(f => f.Severity == severity && (f.Message + " - " + f.Fix).Contains(fragment, StringComparison.Ordinal)).ToList();
        Assert.True(matching.Count == 1,
            $"expected one {severity} finding containing '{fragment}', found {matching.Count} in:\n" + string.Join('\n', findings));
        return matching[0];
    }

    public static void None(this IReadOnlyList<Finding> findings, FindingSeverity severity) =>
        Assert.True(findings.All(f => f.Severity != severity), $"expected no {severity} finding in:\n" + string.Join('\n', findings));

    public static void NoneAbout(this IReadOnlyList<Finding> findings, string subjectFragment, FindingSeverity atLeast)
    {
        var bad = findings.Where(f => f.Severity >= atLeast && f.Subject.Contains(subjectFragment, StringComparison.Ordinal)).ToList();
        Assert.True(bad.Count == 0, $"expected nothing at {atLeast} or worse about '{subjectFragment}', found:\n" + string.Join('\n', bad));
    }
}
