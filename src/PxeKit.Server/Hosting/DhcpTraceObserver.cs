using System.Net;
using System.Text;
using PxeKit.Protocols.Dhcp;
using PxeKit.Server.Boot;

namespace PxeKit.Server.Hosting;

/// <summary>
/// Puts DHCP exchanges on the boot trace: every message of a boot client (PXE, HTTP Boot, iPXE) and of a client the
/// trace already knows (so the booted system's own DHCP joins its boot), and what we answered. Other machines on the
/// network (in proxy mode, every laptop's DHCP) are not traced.
/// </summary>
/// <remarks>Cost per traced message, on the DHCP receive loop: a PxeClientInfo when the server had not parsed one,
/// a <see cref="BootEvent"/>, a <see cref="BootClient"/> for received messages and ACKs, a detail string, and a
/// lock-free dictionary read; then a queue write. No I/O.</remarks>
internal sealed class DhcpTraceObserver(IBootTrace trace, TimeProvider time) : IDhcpObserver
{
    public void Observe(in DhcpExchange exchange)
    {
        var request = exchange.Request;
        var mac = request.HardwareAddressText;
        var client = exchange.Client ?? PxeClientInfo.From(request);
        if (!client.IsBootClient && trace.FindByMac(mac) is null)
            return;

        var now = time.GetUtcNow();
        var kind = Kind(exchange);
        var address = exchange.Address;
        if (!exchange.IsReply || exchange.MessageType == DhcpMessageType.Ack)
        {
            trace.Seen(new BootClient
            {
                Mac = mac,
                Uuid = client.Uuid?.ToString("D"),
                Architecture = client.Architecture,
                // A REQUEST names the address the client is about to use (option 50): in proxy mode the only sign of
                // it we see. It is a claim, not a grant, so it binds only an address no other client holds, for a
                // client that has none yet; our own ACK (yiaddr) always wins.
                Address = address ?? RequestedAddress(exchange, request, mac),
                VendorClass = client.VendorClass,
                UserClass = UserClass(request),
                Hostname = request.TryGetOption(DhcpOptionCode.HostName, out var v12) ? DhcpText.SanitizeHostName(v12) : null,
                LastSeen = now,
            });
        }

        trace.Record(new BootEvent(now, kind, mac, address,
            Requested: exchange.IsReply ? null : RequestedText(request),
            Served: exchange.Boot?.BootFile,
            Detail: Detail(exchange, client))
        {
            // Firmware starts a boot with its DISCOVER; iPXE's and the booted system's continue it.
            StartsBoot = kind == BootEventKind.DhcpDiscover && (client.IsPxeClient || client.IsHttpClient) && !client.IsIpxe,
        });
    }

    private IPAddress? RequestedAddress(in DhcpExchange exchange, DhcpPacket request, string mac)
    {
        if (exchange.MessageType != DhcpMessageType.Request || exchange.IsReply
            || request.GetAddress(DhcpOptionCode.RequestedIpAddress) is not { } requested)
            return null;
        return trace.MacForAddress(requested) is null && trace.FindByMac(mac)?.Address is null ? requested : null;
    }

    private static BootEventKind Kind(in DhcpExchange exchange) => exchange switch
    {
        { IsProxy: true } => BootEventKind.ProxyOffer,
        { MessageType: DhcpMessageType.Discover } => BootEventKind.DhcpDiscover,
        { MessageType: DhcpMessageType.Offer } => BootEventKind.DhcpOffer,
        { MessageType: DhcpMessageType.Request or DhcpMessageType.Inform } => BootEventKind.DhcpRequest,
        { MessageType: DhcpMessageType.Ack } => BootEventKind.DhcpAck,
        { MessageType: DhcpMessageType.Nak } => BootEventKind.DhcpNak,
        { MessageType: DhcpMessageType.Decline } => BootEventKind.DhcpDecline,
        { MessageType: DhcpMessageType.Release } => BootEventKind.DhcpRelease,
        _ => BootEventKind.DhcpRequest,
    };

    /// <summary>What a client asks for by name: the boot file in its request (rare), else nothing.</summary>
    private static string? RequestedText(DhcpPacket request) =>
        request.TryGetOption(DhcpOptionCode.BootFileName, out var v67) ? DhcpText.Printable(v67, 128)
        : request.File.Length > 0 ? request.File : null;

    /// <summary>"UEFI x64 (arch 7), iPXE": who the client is, then what the exchange adds (INFORM, port 4011,
    /// the reason for a NAK or for no boot file).</summary>
    private static string Detail(in DhcpExchange exchange, PxeClientInfo client)
    {
        var text = new StringBuilder(64);
        text.Append(client.Architecture is { } arch ? BootArchitecture.Describe(arch) : "architecture not said");
        if (client.IsIpxe)
            text.Append(", iPXE");
        else if (client.IsHttpClient)
            text.Append(", UEFI HTTP Boot");
        else if (client.IsPxeClient)
            text.Append(", PXE");
        if (exchange.MessageType == DhcpMessageType.Inform)
            text.Append(", INFORM");
        if (exchange.IsProxy)
            text.Append(exchange.MessageType == DhcpMessageType.Ack ? ", boot server port 4011" : ", proxyDHCP offer");
        if (exchange.Note is { } note)
            text.Append(": ").Append(note);
        return text.ToString();
    }

    /// <summary>Option 77 as text: RFC 3004's counted strings joined by commas, or the raw text iPXE and many ROMs
    /// send; cut to 64 characters.</summary>
    internal static string? UserClass(DhcpPacket request)
    {
        if (!request.TryGetOption(DhcpOptionCode.UserClass, out var value) || value.Length == 0)
            return null;
        var parts = new List<string>();
        var i = 0;
        while (i < value.Length)
        {
            int n = value[i];
            if (n == 0 || i + 1 + n > value.Length)
            {
                parts.Clear();
                break;
            }
            parts.Add(DhcpText.Printable(value.AsSpan(i + 1, n), 64));
            i += 1 + n;
        }
        var text = parts.Count > 0 && i == value.Length ? string.Join(',', parts) : DhcpText.Printable(value, 64);
        return text.Length > 64 ? text[..64] : text;
    }
}
