using System.Net;
using System.Net.Sockets;

namespace PxeKit.Protocols.Buffers;

/// <summary>
/// Binds datagram endpoints. The UDP implementation is <see cref="UdpDatagramTransport"/>; tests inject an
/// in-memory one with loss and reordering, so protocol servers never hard-code sockets or ports.
/// </summary>
public interface IDatagramTransport
{
    /// <summary>Binds a new endpoint; port 0 asks for an ephemeral port.</summary>
    IDatagramEndpoint Bind(IPEndPoint localEndPoint);

    /// <summary>
    /// Binds beside another program's socket on the same port (SO_REUSEADDR), which works only when that socket
    /// allows it too (dnsmasq with bind-interfaces, Kea's fallback socket on its own address). Bound to the limited
    /// broadcast address, the endpoint receives broadcasts and never the other program's unicast traffic.
    /// </summary>
    IDatagramEndpoint BindShared(IPEndPoint localEndPoint);
}

/// <summary>One bound datagram endpoint. Addresses are <see cref="SocketAddress"/> so that receiving and sending
/// allocate nothing per datagram.</summary>
public interface IDatagramEndpoint : IDisposable
{
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Receives one datagram into <paramref name="buffer"/> (cut to its length) and writes the sender
    /// into <paramref name="remoteAddress"/>.</summary>
    ValueTask<int> ReceiveFromAsync(Memory<byte> buffer, SocketAddress remoteAddress, CancellationToken cancellationToken);

    /// <summary>Receives one datagram and tells which local address it was sent to (IP_PKTINFO), for a listener
    /// bound to a wildcard address that must answer from the address the client used.</summary>
    ValueTask<DatagramReceived> ReceiveMessageFromAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    ValueTask SendToAsync(ReadOnlyMemory<byte> datagram, SocketAddress remoteAddress, CancellationToken cancellationToken);

    /// <summary>How many datagrams of <paramref name="segmentSize"/> bytes one <see cref="SendSegmentsAsync"/> call
    /// takes; 1 where the platform has no segmentation offload.</summary>
    int MaxSegmentsPerSend(int segmentSize) => 1;

    /// <summary>Sends <paramref name="segments"/> as consecutive datagrams of <paramref name="segmentSize"/> bytes
    /// each (the last may be shorter): a window of TFTP DATA in as few system calls as the platform allows.</summary>
    async ValueTask SendSegmentsAsync(ReadOnlyMemory<byte> segments, int segmentSize, SocketAddress remoteAddress, CancellationToken cancellationToken)
    {
        for (var offset = 0; offset < segments.Length; offset += segmentSize)
            await SendToAsync(segments.Slice(offset, Math.Min(segmentSize, segments.Length - offset)), remoteAddress, cancellationToken);
    }
}

/// <summary>A datagram received by <see cref="IDatagramEndpoint.ReceiveMessageFromAsync"/>.</summary>
public readonly record struct DatagramReceived(int Length, IPEndPoint Remote, IPAddress LocalAddress);
