using System.Buffers.Binary;
using System.Net;
using System.Text;
using PxeKit.Protocols.Dhcp;

namespace PxeKit.Tests.Protocols.Dhcp;

/// <summary>Requests as clients send them, built from our codec or byte by byte for the hostile cases.</summary>
internal static class DhcpTestPackets
{
    public static readonly byte[] Mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

    public static byte[] Chaddr(byte[] mac)
    {
        var chaddr = new byte[16];
        mac.CopyTo(chaddr, 0);
        return chaddr;
    }

    public static DhcpPacket Request(DhcpMessageType type, byte[]? mac = null, uint xid = 0x1234abcd, params DhcpOption[] options) => new()
    {
        Op = DhcpOp.BootRequest,
        TransactionId = xid,
        Flags = DhcpLimits.BroadcastFlag,
        ClientHardwareAddress = Chaddr(mac ?? Mac),
        Options = [new DhcpOption(DhcpOptionCode.MessageType, [(byte)type]), .. options],
    };

    public static DhcpOption Pxe(ushort arch) =>
        new(DhcpOptionCode.VendorClassIdentifier, Encoding.ASCII.GetBytes($"PXEClient:Arch:{arch:D5}:UNDI:003016"));

    public static DhcpOption Arch(ushort arch)
    {
        var value = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(value, arch);
        return new DhcpOption(DhcpOptionCode.ClientSystemArchitecture, value);
    }

    public static DhcpOption Address(DhcpOptionCode code, string address) => new(code, IPAddress.Parse(address).GetAddressBytes());

    public static DhcpOption Text(DhcpOptionCode code, string text) => new(code, Encoding.ASCII.GetBytes(text));

    public static byte[] Encode(DhcpPacket packet)
    {
        var bytes = new byte[packet.GetEncodedLength()];
        packet.WriteTo(bytes);
        return bytes;
    }

    /// <summary>A valid 240-byte header + cookie followed by <paramref name="optionBytes"/> exactly as given.</summary>
    public static byte[] Raw(params byte[] optionBytes)
    {
        var bytes = new byte[DhcpOffsets.Options + optionBytes.Length];
        bytes[DhcpOffsets.Op] = 1;
        bytes[DhcpOffsets.HardwareType] = 1;
        bytes[DhcpOffsets.HardwareLength] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(DhcpOffsets.TransactionId), 0x01020304);
        Mac.CopyTo(bytes, DhcpOffsets.ClientHardwareAddress);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(DhcpOffsets.MagicCookie), DhcpLimits.MagicCookie);
        optionBytes.CopyTo(bytes, DhcpOffsets.Options);
        return bytes;
    }

    public static DhcpPacket Parse(byte[] bytes)
    {
        Assert.True(DhcpPacket.TryParse(bytes, out var packet, out var error), error);
        return packet!;
    }
}
