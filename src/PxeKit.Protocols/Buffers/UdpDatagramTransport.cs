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

    public IDatagramEndpoint Bind(IPEndPoint localEndPoint)
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
            if (ReuseAddress)
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

        public void Dispose() => socket.Dispose();
    }
}
