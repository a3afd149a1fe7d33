using PxeKit.Protocols.Dhcp;
using static PxeKit.Tests.Protocols.Dhcp.DhcpTestPackets;

namespace PxeKit.Tests.Protocols.Dhcp;

public class PxeClientInfoTests
{
    private static PxeClientInfo Info(params DhcpOption[] options) =>
        PxeClientInfo.From(Parse(Encode(Request(DhcpMessageType.Discover, options: options))));

    [Fact]
    public void Firmware_discover_gives_arch_uuid_and_undi()
    {
        byte[] uuid = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        var info = Info(Pxe(7), Arch(7), new(DhcpOptionCode.ClientNetworkInterface, [1, 3, 16]), new(DhcpOptionCode.ClientMachineIdentifier, uuid));
        Assert.True(info.IsPxeClient);
        Assert.False(info.IsHttpClient);
        Assert.False(info.IsIpxe);
        Assert.Equal((ushort?)7, info.Architecture);
        Assert.Equal(((byte)3, (byte)16), info.UndiVersion);
        Assert.NotNull(info.Uuid);
        Assert.Equal(uuid, info.MachineIdentifier);
    }

    [Fact]
    public void Http_client_is_recognised()
    {
        var info = Info(Text(DhcpOptionCode.VendorClassIdentifier, "HTTPClient:Arch:00016:UNDI:003001"), Arch(16));
        Assert.True(info.IsHttpClient);
        Assert.Equal((ushort?)16, info.Architecture);
    }

    [Theory] // D10: option 93 odd/zero length
    [InlineData(new byte[] { 0 }, null)]
    [InlineData(new byte[] { 0, 7, 0 }, (ushort)7)]
    [InlineData(new byte[] { 0, 0, 0, 7 }, (ushort)0)]
    public void D10_option_93_odd_or_short(byte[] value, ushort? expected)
    {
        var info = Info(Text(DhcpOptionCode.VendorClassIdentifier, "PXEClient"), new DhcpOption(DhcpOptionCode.ClientSystemArchitecture, value));
        Assert.Equal(expected, info.Architecture);
    }

    [Theory] // D10: option 60 malformed
    [InlineData("PXEClient:Arch:00007:UNDI:003016", (ushort)7)]
    [InlineData("PXEClient:Arch:00000", (ushort)0)]
    [InlineData("PXEClient:Arch:7", null)]
    [InlineData("PXEClient:Arch:0000x:UNDI", null)]
    [InlineData("PXEClient:Arch:000070", null)]
    [InlineData("PXEClient:Arch:99999", null)]
    [InlineData("PXEClient", null)]
    public void D10_architecture_from_vendor_class(string vendor, ushort? expected)
    {
        Assert.Equal(expected, Info(Text(DhcpOptionCode.VendorClassIdentifier, vendor)).Architecture);
    }

    [Theory] // D10: 94 ≠ 3 bytes, 97 ≠ 17 bytes or type ≠ 0
    [InlineData(94, 2)]
    [InlineData(94, 4)]
    [InlineData(97, 16)]
    [InlineData(97, 18)]
    public void D10_wrong_length_pxe_options_are_absent(byte code, int length)
    {
        var value = new byte[length];
        value[0] = code == 94 ? (byte)1 : (byte)0;
        var info = Info(Pxe(0), new DhcpOption(code, value));
        Assert.Null(info.UndiVersion);
        Assert.Null(info.Uuid);
    }

    [Fact] // D10
    public void D10_uuid_type_other_than_zero_is_ignored()
    {
        var value = new byte[17];
        value[0] = 1;
        Assert.Null(Info(Pxe(0), new DhcpOption(DhcpOptionCode.ClientMachineIdentifier, value)).Uuid);
    }

    [Theory] // D10: option 77 counted vs raw
    [InlineData(new byte[] { (byte)'i', (byte)'P', (byte)'X', (byte)'E' }, true)]
    [InlineData(new byte[] { 4, (byte)'i', (byte)'P', (byte)'X', (byte)'E' }, true)]
    [InlineData(new byte[] { 3, (byte)'a', (byte)'b', (byte)'c', 4, (byte)'i', (byte)'P', (byte)'X', (byte)'E' }, true)]
    [InlineData(new byte[] { 9, (byte)'i', (byte)'P', (byte)'X', (byte)'E' }, false)]
    [InlineData(new byte[] { 0 }, false)]
    [InlineData(new byte[] { (byte)'g', (byte)'P', (byte)'X', (byte)'E' }, false)]
    public void D10_user_class_counted_or_raw(byte[] value, bool ipxe)
    {
        Assert.Equal(ipxe, Info(Pxe(0), new DhcpOption(DhcpOptionCode.UserClass, value)).IsIpxe);
    }

    [Fact]
    public void Option_175_means_ipxe()
    {
        Assert.True(Info(Pxe(7), new DhcpOption(DhcpOptionCode.IpxeEncapsulated, [1, 1, 1])).IsIpxe);
    }

    [Fact]
    public void Non_pxe_client_is_not_a_boot_client()
    {
        var info = Info(Text(DhcpOptionCode.VendorClassIdentifier, "MSFT 5.0"));
        Assert.False(info.IsBootClient);
        Assert.Null(info.Architecture);
    }
}
