using System.Net;

namespace PxeKit.Protocols.Dhcp;

public sealed partial class DhcpServer
{
    /// <summary>Told of every accepted message and every reply (boot traces); null costs nothing. Set at
    /// construction: the receive loops read it without a lock.</summary>
    public IDhcpObserver? Observer { get; init; }

    /// <summary>A received message that passed the checks every request must satisfy.</summary>
    private void ObserveReceived(DhcpPacket request)
    {
        if (Observer is not null)
        {
            var own = request.ClientAddress.Equals(IPAddress.Any) ? null : request.ClientAddress;
            Notify(new DhcpExchange(request, request.MessageType!.Value, IsReply: false, IsProxy: false, null, own, null, null));
        }
    }

    private void ObserveReply(DhcpPacket request, DhcpMessageType type, bool proxy, PxeClientInfo? client, IPAddress? address, DhcpBootChoice? boot, string? note = null)
    {
        if (Observer is not null)
            Notify(new DhcpExchange(request, type, IsReply: true, proxy, client, address, boot, note));
    }

    private void Notify(in DhcpExchange exchange)
    {
        try
        {
            Observer!.Observe(exchange);
        }
        catch (Exception e)
        {
            // The observer's contract is never to throw; if it does, a trace is lost, never an answer to a client.
            DhcpLog.ObserverFailed(_logger, exchange.Request.HardwareAddressText, e);
        }
    }
}
