using System.Net;
using PxeKit.Protocols.Buffers;

namespace PxeKit.Protocols.Dhcp;

public sealed partial class DhcpServer
{
    /// <summary>
    /// proxyDHCP on port 67 (PXE 2.1 §2.2.5): a PXE DISCOVER gets an OFFER with the boot server and file but no
    /// address; everything else belongs to the site's DHCP server and gets silence. Never a NAK, never yiaddr
    /// (hostile-inputs D11, D12).
    /// </summary>
    private async ValueTask AnswerProxyAsync(IDatagramEndpoint endpoint, DhcpPacket request, CancellationToken stopping)
    {
        if (request.MessageType != DhcpMessageType.Discover)
        {
            DhcpLog.Ignored(_logger, request.MessageType!.Value, request.HardwareAddressText,
                "proxy mode answers only DISCOVER on port 67; the site's DHCP server owns the rest");
            return;
        }
        if (BootAnswer(request, DhcpMessageType.Offer) is { } reply)
            await SendAsync(endpoint, reply, Destination(request, DhcpMessageType.Offer), stopping);
    }

    /// <summary>
    /// Port 4011 (PXE 2.1 §2.2.5 "boot server"): a client that already has its address asks for its boot file with
    /// a REQUEST (or INFORM); the answer is an ACK to the address and port it came from, in either mode.
    /// </summary>
    private async ValueTask AnswerBootServerAsync(IDatagramEndpoint endpoint, DhcpPacket request, IPEndPoint remote, CancellationToken stopping)
    {
        if (request.MessageType is not (DhcpMessageType.Request or DhcpMessageType.Inform))
        {
            DhcpLog.Ignored(_logger, request.MessageType!.Value, request.HardwareAddressText,
                "the boot-server port answers only REQUEST and INFORM");
            return;
        }
        if (BootAnswer(request, DhcpMessageType.Ack) is not { } reply)
            return;
        // Answer the source as seen on the wire: a client sending from an odd port gets its answer there (D11).
        var destination = remote.Address.Equals(IPAddress.Any) ? new IPEndPoint(IPAddress.Broadcast, _options.ClientPort) : remote;
        await SendAsync(endpoint, reply, destination, stopping);
    }

    /// <summary>The boot server and file for a PXE or HTTP boot client, with no address (both proxy ports); null,
    /// logged, when the client is not a boot client or the policy has nothing for it.</summary>
    private DhcpPacket? BootAnswer(DhcpPacket request, DhcpMessageType replyType)
    {
        var mac = request.HardwareAddressText;
        var client = PxeClientInfo.From(request);
        if (!client.IsBootClient)
        {
            DhcpLog.Ignored(_logger, request.MessageType!.Value, mac, "not a PXE or HTTP boot client");
            return null;
        }
        var boot = ChooseBoot(request, client, mac);
        if (boot is null)
        {
            ObserveReply(request, replyType, proxy: true, client, null, null, "the boot policy has no boot file for this client");
            return null;
        }
        ObserveReply(request, replyType, proxy: true, client, request.ClientAddress.Equals(IPAddress.Any) ? null : request.ClientAddress, boot);
        DhcpLog.ProxyAnswered(_logger, replyType == DhcpMessageType.Offer ? "OFFER" : "ACK", mac, client.ToString(), boot.BootFile);
        return BuildReply(request, replyType, IPAddress.Any, null, null, client, boot);
    }
}
