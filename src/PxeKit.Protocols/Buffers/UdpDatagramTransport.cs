using System.Net;
using System.Net.Sockets;

namespace PxeKit.Protocols.Buffers;

/// <summary>Real UDP sockets.</summary>
public sealed class UdpDatagramTransport : IDatagramTransport
{
    /// <summary>Kernel buffer per socket: a 16-block window of 1468-byte blocks is ~24 KB; 1 MiB absorbs bursts from
    /// many windows without drops on a busy listener.</summary>
    public int SocketBufferBytes { get; init; } = 1 << 20;

    /// <summary>SO_BROADCAST: needed to send to 255.255.255.255 (DHCP replies to clients without an address).</summary>
    public bool EnableBroadcast { get; init; }

    /// <summary>Linux SO_BINDTODEVICE: receive and send only on this interface, so that a DHCP server bound to
    /// 0.0.0.0:67 answers the network it was asked to serve and broadcasts leave by that interface.</summary>
    public string? Device { get; init; }

    /// <summary>SO_REUSEADDR: lets a probe bind the DHCP client port while a DHCP client on this host holds it.</summary>
    public bool ReuseAddress { get; init; }

    private const int SolSocket = 1;      // <asm-generic/socket.h>
    private const int SoBindToDevice = 25;

    public IDatagramEndpoint Bind(IPEndPoint localEndPoint) => Bind(localEndPoint, ReuseAddress);

    public IDatagramEndpoint BindShared(IPEndPoint localEndPoint) => Bind(localEndPoint, reuseAddress: true);

    private IDatagramEndpoint Bind(IPEndPoint localEndPoint, bool reuseAddress)
    {
        var socket = new Socket(localEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (localEndPoint.AddressFamily == AddressFamily.InterNetworkV6)
                socket.DualMode = true;
            socket.SendBufferSize = SocketBufferBytes;
            socket.ReceiveBufferSize = SocketBufferBytes;
            if (OperatingSystem.IsWindows())
            {
                // An ICMP port-unreachable would otherwise surface as WSAECONNRESET on the next receive and end the
                // loop (dotnet/corefx#33049, hostile-inputs S5).
                const int SioUdpConnReset = unchecked((int)0x9800000C);
                socket.IOControl(SioUdpConnReset, [0, 0, 0, 0], null);
            }
            if (EnableBroadcast)
                socket.EnableBroadcast = true;
            if (reuseAddress)
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            if (Device is { Length: > 0 } device)
            {
                if (!OperatingSystem.IsLinux())
                    throw new PlatformNotSupportedException("binding to an interface by name needs Linux (SO_BINDTODEVICE)");
                socket.SetRawSocketOption(SolSocket, SoBindToDevice, System.Text.Encoding.ASCII.GetBytes(device + "\0"));
            }
            socket.SetSocketOption(
                localEndPoint.AddressFamily == AddressFamily.InterNetwork ? SocketOptionLevel.IP : SocketOptionLevel.IPv6,
                SocketOptionName.PacketInformation, true);
            socket.Bind(localEndPoint);
            return new UdpDatagramEndpoint(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private sealed class UdpDatagramEndpoint(Socket socket) : IDatagramEndpoint
    {
        // Linux UDP generic segmentation offload (udp(7), since 4.18): one sendto carries up to 64 datagrams of
        // gso_size bytes that the kernel (or the NIC) splits. It cuts the system calls of a TFTP window by up to 64x.
        private const int SolUdp = 17;
        private const int UdpSegment = 103;
        private const int MaxGsoSegments = 64;
        private const int MaxUdpPayload = 65_507; // 65535 - IPv4 header (20) - UDP header (8)
        private bool _segmentationUnavailable = !OperatingSystem.IsLinux();
        private int _segmentSize;

        private readonly EndPoint _anyRemote = socket.AddressFamily == AddressFamily.InterNetwork
            ? new IPEndPoint(IPAddress.Any, 0)
            : new IPEndPoint(IPAddress.IPv6Any, 0);

        public IPEndPoint LocalEndPoint { get; } = (IPEndPoint)socket.LocalEndPoint!;

        public ValueTask<int> ReceiveFromAsync(Memory<byte> buffer, SocketAddress remoteAddress, CancellationToken cancellationToken) =>
            socket.ReceiveFromAsync(buffer, SocketFlags.None, remoteAddress, cancellationToken);

        public async ValueTask<DatagramReceived> ReceiveMessageFromAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            while (true)
            {
                try
                {
                    var result = await socket.ReceiveMessageFromAsync(buffer, SocketFlags.None, _anyRemote, cancellationToken);
                    return new DatagramReceived(result.ReceivedBytes, (IPEndPoint)result.RemoteEndPoint, result.PacketInformation.Address);
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize)
                {
                    // ICMP errors from earlier sends and over-long datagrams concern one peer, not the listener (S5).
                }
            }
        }

        public ValueTask SendToAsync(ReadOnlyMemory<byte> datagram, SocketAddress remoteAddress, CancellationToken cancellationToken)
        {
            var pending = socket.SendToAsync(datagram, SocketFlags.None, remoteAddress, cancellationToken);
            if (pending.IsCompletedSuccessfully)
            {
                _ = pending.Result;
                return ValueTask.CompletedTask;
            }
            return AwaitSend(pending);
        }

        private static async ValueTask AwaitSend(ValueTask<int> pending) => await pending;

        public int MaxSegmentsPerSend(int segmentSize)
        {
            if (_segmentationUnavailable || segmentSize <= 0 || segmentSize > MaxUdpPayload / 2)
                return 1;
            if (_segmentSize != segmentSize)
            {
                try
                {
                    // The size applies to every later send on this socket; sends no longer than it (OACK, ERROR, a
                    // single DATA) still leave as one datagram.
                    socket.SetRawSocketOption(SolUdp, UdpSegment, BitConverter.GetBytes(segmentSize));
                    _segmentSize = segmentSize;
                }
                catch (SocketException)
                {
                    _segmentationUnavailable = true; // an older kernel: one datagram per call
                    return 1;
                }
            }
            return Math.Min(MaxGsoSegments, MaxUdpPayload / segmentSize);
        }

        public ValueTask SendSegmentsAsync(ReadOnlyMemory<byte> segments, int segmentSize, SocketAddress remoteAddress, CancellationToken cancellationToken)
        {
            if (_segmentSize == segmentSize && !_segmentationUnavailable)
                return SendToAsync(segments, remoteAddress, cancellationToken);
            return SendOneByOneAsync(segments, segmentSize, remoteAddress, cancellationToken);
        }

        private async ValueTask SendOneByOneAsync(ReadOnlyMemory<byte> segments, int segmentSize, SocketAddress remoteAddress, CancellationToken cancellationToken)
        {
            for (var offset = 0; offset < segments.Length; offset += segmentSize)
                await SendToAsync(segments.Slice(offset, Math.Min(segmentSize, segments.Length - offset)), remoteAddress, cancellationToken);
        }

        public void Dispose() => socket.Dispose();
    }
}
