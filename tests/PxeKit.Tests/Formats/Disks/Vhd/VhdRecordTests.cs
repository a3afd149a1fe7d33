using System.Text;
using PxeKit.Formats.Disks.Vhd;

namespace PxeKit.Tests.Formats.Disks.Vhd;

/// <summary>Each on-disk record round-trips through WriteTo/TryParse; geometry follows the spec's appendix.</summary>
public sealed class VhdRecordTests
{
    [Fact]
    public void FooterRoundTrips()
    {
        var footer = new VhdFooter
        {
            DataOffset = 512, TimeStamp = 123456, CreatorApplication = VhdFooter.FourCc("qem2"u8), CreatorVersion = 0x10000,
            CreatorHostOs = VhdFooter.FourCc("Wi2k"u8), OriginalSize = 1 << 30, CurrentSize = 1 << 30, Cylinders = 2080,
            Heads = 16, SectorsPerTrack = 63, DiskType = VhdDiskType.Dynamic, UniqueId = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray(),
        };
        var bytes = new byte[footer.GetEncodedLength()];
        footer.WriteTo(bytes);
        Assert.True(VhdFooter.TryParse(bytes, out var parsed, out var error), error);
        Assert.Equal(footer with { Checksum = parsed.Checksum, UniqueId = parsed.UniqueId }, parsed);
        Assert.Equal(footer.UniqueId, parsed.UniqueId);
        Assert.Equal("conectix", Encoding.ASCII.GetString(bytes, 0, 8));

        bytes[100] ^= 1;
        Assert.False(VhdFooter.TryParse(bytes, out _, out error));
        Assert.Contains("checksum", error, StringComparison.Ordinal);
    }

    [Fact]
    public void DynamicHeaderRoundTripsWithParentNameAndLocators()
    {
        var locators = new ParentLocator[VhdDynamicHeader.LocatorCount];
        locators[0] = new ParentLocator(ParentLocator.W2ku, 512, 40, 3072);
        locators[1] = new ParentLocator(ParentLocator.W2ru, 512, 22, 3584);
        var header = new VhdDynamicHeader
        {
            TableOffset = 1536, MaxTableEntries = 512, BlockSize = 2 << 20, ParentTimeStamp = 99,
            ParentUniqueId = Enumerable.Repeat((byte)7, 16).ToArray(), ParentUnicodeName = "golden-ä.vhd", Locators = locators,
        };
        var bytes = new byte[header.GetEncodedLength()];
        header.WriteTo(bytes);
        Assert.True(VhdDynamicHeader.TryParse(bytes, out var parsed, out var error), error);
        Assert.Equal("golden-ä.vhd", parsed.ParentUnicodeName);
        Assert.Equal(locators, parsed.Locators);
        Assert.Equal(header.ParentUniqueId, parsed.ParentUniqueId);
        Assert.Equal((header.TableOffset, header.MaxTableEntries, header.BlockSize, header.ParentTimeStamp),
            (parsed.TableOffset, parsed.MaxTableEntries, parsed.BlockSize, parsed.ParentTimeStamp));
        // The name is UTF-16 big-endian at 0x40 (spec), unlike the locators' little-endian paths.
        Assert.Equal((byte)'g', bytes[0x41]);
        Assert.Equal(0, bytes[0x40]);

        Assert.False(VhdDynamicHeader.TryParse(bytes.AsSpan(0, 1000), out _, out error));
        Assert.Contains("truncated", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(104865792L, 1004, 12, 17)]          // qemu-img create -f vpc 100M (CHS-rounded size)
    [InlineData(0xff000000L * 512, 65535, 16, 255)] // 2040 GiB: capped at the largest geometry
    [InlineData(1L << 30, 2080, 16, 63)]
    [InlineData(10L << 20, 301, 4, 17)]
    public void GeometryIsTheSpecs(long size, int cylinders, int heads, int sectorsPerTrack)
    {
        var (c, h, s) = VhdFooter.ComputeGeometry(size);
        Assert.Equal((cylinders, heads, sectorsPerTrack), (c, h, s));
        Assert.True((long)c * h * s * 512 <= size);
    }
}
