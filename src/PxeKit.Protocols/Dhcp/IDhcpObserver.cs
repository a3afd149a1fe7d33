using System.Net;

namespace PxeKit.Protocols.Dhcp;

/// <summary>
/// Told of every DHCP message the server accepts and every reply it sends (boot traces, metrics). The server calls
/// it on its receive loop: an implementation must return quickly, never block on I/O and never throw (an exception
/// is logged and swallowed so that it cannot stop the server). The server never reads anything back from it.
/// </summary>
public interface IDhcpObserver
{
    void Observe(in DhcpExchange exchange);
}

/// <summary>
/// One step of a DHCP exchange. A struct passed by reference: with no observer set the server builds none, and with
/// one it allocates nothing itself (what the observer keeps, it allocates).
/// </summary>
/// <param name="Request">The client's message (for a reply, the one it answers); its options carry the UUID, user
/// class and vendor class.</param>
/// <param name="MessageType">The type of the message this step is about: the request's for a received message, the
/// reply's for a sent one.</param>
/// <param name="IsReply">True for a message the server sent.</param>
/// <param name="IsProxy">True for a proxyDHCP answer (port 67 OFFER in proxy mode, or a port-4011 ACK): boot file,
/// no address.</param>
/// <param name="Client">What the request says about the boot client, when the server already parsed it; null means
/// "not parsed" (use <see cref="PxeClientInfo.From"/>), not "not a boot client".</param>
/// <param name="Address">yiaddr of an OFFER or ACK, else the client's own address (ciaddr) when it has one.</param>
/// <param name="Boot">The boot file the reply names, or null.</param>
/// <param name="Note">Why a NAK was sent, or why a boot client got no boot file.</param>
public readonly record struct DhcpExchange(
    DhcpPacket Request,
    DhcpMessageType MessageType,
    bool IsReply,
    bool IsProxy,
    PxeClientInfo? Client,
    IPAddress? Address,
    DhcpBootChoice? Boot,
    string? Note);
