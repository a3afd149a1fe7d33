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
        var type = request.MessageType!.Value;
        var mac = request.HardwareAddressText;
        if (type != DhcpMessageType.Discover)
        {
            DhcpLog.Ignored(_logger, type, mac, "proxy mode answers only DISCOVER on port 67; the site's DHCP server owns the rest");
            return;
        }
        var client = PxeClientInfo.From(request);
        if (!client.IsBootClient)
        {
            DhcpLog.Ignored(_logger, type, mac, "not a PXE or HTTP boot client");
            return;
        }
        var boot = ChooseBoot(request, client, mac);
        if (boot is null)
            return;
        var reply = BuildReply(request, DhcpMessageType.Offer, IPAddress.Any, null, null, client, boot);
        DhcpLog.ProxyAnswered(_logger, "OFFER", mac, client.ToString(), boot.BootFile);
        await SendAsync(endpoint, reply, Destination(request, DhcpMessageType.Offer), stopping);
    }

    /// <summary>
    /// Port 4011 (PXE 2.1 §2.2.5 "boot server"): a client that already has its address asks for its boot file with
    /// a REQUEST (or INFORM); the answer is an ACK to the address and port it came from, in either mode.
    /// </summary>
    private async ValueTask AnswerBootServerAsync(IDatagramEndpoint endpoint, DhcpPacket request, IPEndPoint remote, CancellationToken stopping)
    {
        var type = request.MessageType!.Value;
        var mac = request.HardwareAddressText;
        if (type is not (DhcpMessageType.Request or DhcpMessageType.Inform))
        {
            DhcpLog.Ignored(_logger, type, mac, "the boot-server port answers only REQUEST and INFORM");
            return;
        }
        var client = PxeClientInfo.From(request);
        if (!client.IsBootClient)
        {
            DhcpLog.Ignored(_logger, type, mac, "not a PXE or HTTP boot client");
            return;
        }
        var boot = ChooseBoot(request, client, mac);
        if (boot is null)
            return;
        var reply = BuildReply(request, DhcpMessageType.Ack, IPAddress.Any, null, null, client, boot);
        DhcpLog.ProxyAnswered(_logger, "ACK", mac, client.ToString(), boot.BootFile);
        // Answer the source as seen on the wire: a client sending from an odd port gets its answer there (D11).
        var destination = remote.Address.Equals(IPAddress.Any) ? new IPEndPoint(IPAddress.Broadcast, _options.ClientPort) : remote;
        await SendAsync(endpoint, reply, destination, stopping);
    }
}
