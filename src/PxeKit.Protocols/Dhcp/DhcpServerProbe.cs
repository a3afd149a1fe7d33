using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using PxeKit.Protocols.Buffers;

namespace PxeKit.Protocols.Dhcp;

/// <summary>One server that answered a probe DISCOVER, and what it offered.</summary>
/// <param name="Source">Where the OFFER came from (IP source address).</param>
/// <param name="ServerIdentifier">Option 54, or null.</param>
/// <param name="OfferedAddress">yiaddr; 0.0.0.0 for a proxyDHCP answer.</param>
public sealed record DhcpServerAnswer(
    IPAddress Source, IPAddress? ServerIdentifier, IPAddress OfferedAddress, IPAddress NextServer, string? BootFile, string? VendorClass)
{
    /// <summary>A proxyDHCP server (PXE 2.1): boot options, no address.</summary>
    public bool IsProxy => OfferedAddress.Equals(IPAddress.Any);

    public IPAddress Server => ServerIdentifier ?? Source;

    public override string ToString() => IsProxy
        ? $"{Server}: proxyDHCP, next-server {NextServer}, boot file '{BootFile}'"
        : $"{Server}: DHCP, offers {OfferedAddress}" + (BootFile is { Length: > 0 } ? $", next-server {NextServer}, boot file '{BootFile}'" : "");
}

/// <summary>
/// Sends one DISCOVER as a PXE client would (vendor class PXEClient, x64 UEFI) and lists every server that offers
/// something: the way to see, before handing out addresses, whether another DHCP server already does.
/// </summary>
public static class DhcpServerProbe
{
    public static DhcpPacket BuildDiscover(byte[] mac, uint transactionId)
    {
        var chaddr = new byte[DhcpLimits.ChaddrLength];
        mac.CopyTo(chaddr, 0);
        return new DhcpPacket
        {
            Op = DhcpOp.BootRequest,
            TransactionId = transactionId,
            Flags = DhcpLimits.BroadcastFlag, // we have no address: every answer must be broadcast
            ClientHardwareAddress = chaddr,
            Options =
            [
                new(DhcpOptionCode.MessageType, [(byte)DhcpMessageType.Discover]),
                new(DhcpOptionCode.VendorClassIdentifier, "PXEClient:Arch:00007:UNDI:003016"u8.ToArray()),
                new(DhcpOptionCode.ClientSystemArchitecture, [0, (byte)ClientArchitecture.EfiX64]),
                new(DhcpOptionCode.ParameterRequestList, [1, 3, 6, 15, 51, 54, 60, 66, 67, 43]),
            ],
        };
    }

    /// <summary>A random locally administered unicast MAC, so that the probe takes no real client's lease.</summary>
    public static byte[] RandomMac()
    {
        var mac = RandomNumberGenerator.GetBytes(6);
        mac[0] = (byte)((mac[0] & 0xFC) | 0x02);
        return mac;
    }

    /// <summary>Sends the DISCOVER from <paramref name="endpoint"/> (bound to the client port) to
    /// <paramref name="destination"/> and collects OFFERs for <paramref name="wait"/>.</summary>
    public static async Task<IReadOnlyList<DhcpServerAnswer>> ProbeAsync(
        IDatagramEndpoint endpoint, IPEndPoint destination, TimeSpan wait, CancellationToken cancellationToken)
    {
        var mac = RandomMac();
        var xid = BinaryPrimitives.ReadUInt32BigEndian(RandomNumberGenerator.GetBytes(4));
        var discover = BuildDiscover(mac, xid);
        var bytes = new byte[discover.GetEncodedLength()];
        discover.WriteTo(bytes);
        await endpoint.SendToAsync(bytes, destination.Serialize(), cancellationToken);

        var answers = new List<DhcpServerAnswer>();
        var buffer = new byte[DhcpLimits.ReceiveBufferLength];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        while (true)
        {
            DatagramReceived received;
            try
            {
                received = await endpoint.ReceiveMessageFromAsync(buffer, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }
            if (!DhcpPacket.TryParse(buffer.AsSpan(0, received.Length), out var offer, out _)
                || offer!.Op != DhcpOp.BootReply || offer.TransactionId != xid || offer.MessageType != DhcpMessageType.Offer
                || !offer.HardwareAddress.SequenceEqual(mac))
                continue;
            var bootFile = offer.GetText(DhcpOptionCode.BootFileName) ?? (offer.File.Length > 0 ? offer.File : null);
            var answer = new DhcpServerAnswer(received.Remote.Address, offer.GetAddress(DhcpOptionCode.ServerIdentifier),
                offer.YourAddress, offer.ServerAddress, bootFile, offer.GetText(DhcpOptionCode.VendorClassIdentifier));
            if (!answers.Exists(a => a.Server.Equals(answer.Server) && a.IsProxy == answer.IsProxy))
                answers.Add(answer);
        }
        return answers;
    }
}
