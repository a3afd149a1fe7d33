using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using PxeKit.Protocols.Buffers;

namespace PxeKit.Tests.Infrastructure;

/// <summary>
/// Datagrams between endpoints in memory, with a hook that can drop any datagram: loss and time-outs are tested
/// without a network and (with FakeTimeProvider) without waiting.
/// </summary>
internal sealed class InMemoryNetwork : IDatagramTransport
{
    private readonly ConcurrentDictionary<IPEndPoint, InMemoryEndpoint> _endpoints = new();
    private int _nextPort = 40000;

    /// <summary>Return true to drop the datagram (from, to, bytes).</summary>
    public Func<IPEndPoint, IPEndPoint, byte[], bool> Drop { get; set; } = (_, _, _) => false;

    private readonly ConcurrentDictionary<int, bool> _heldPorts = new();

    /// <summary>Another program holds <paramref name="port"/> on this host: an exclusive bind fails, and a shared
    /// one succeeds only if <paramref name="shareable"/> (as dnsmasq with bind-interfaces allows).</summary>
    public void HoldPort(int port, bool shareable) => _heldPorts[port] = shareable;

    public IDatagramEndpoint BindShared(IPEndPoint localEndPoint)
    {
        if (_heldPorts.TryGetValue(localEndPoint.Port, out var shareable) && !shareable)
            throw new SocketException((int)SocketError.AddressAlreadyInUse);
        return BindUnheld(localEndPoint);
    }

    public IDatagramEndpoint Bind(IPEndPoint localEndPoint)
    {
        if (_heldPorts.ContainsKey(localEndPoint.Port))
            throw new SocketException((int)SocketError.AddressAlreadyInUse);
        return BindUnheld(localEndPoint);
    }

    private IDatagramEndpoint BindUnheld(IPEndPoint localEndPoint)
    {
        var port = localEndPoint.Port == 0 ? Interlocked.Increment(ref _nextPort) : localEndPoint.Port;
        var bound = new IPEndPoint(localEndPoint.Address, port);
        var endpoint = new InMemoryEndpoint(this, bound);
        if (!_endpoints.TryAdd(bound, endpoint))
            throw new SocketException((int)SocketError.AddressAlreadyInUse);
        return endpoint;
    }

    public InMemoryEndpoint BindClient(string address = "192.0.2.50") =>
        (InMemoryEndpoint)Bind(new IPEndPoint(IPAddress.Parse(address), 0));

    public int OpenEndpoints => _endpoints.Count;

    private void Deliver(IPEndPoint from, IPEndPoint to, ReadOnlySpan<byte> datagram)
    {
        var copy = datagram.ToArray();
        if (Drop(from, to, copy))
            return;
        if (_endpoints.TryGetValue(to, out var target))
            target.Inbox.Writer.TryWrite((from, copy));
    }

    internal sealed class InMemoryEndpoint(InMemoryNetwork network, IPEndPoint local) : IDatagramEndpoint
    {
        public Channel<(IPEndPoint From, byte[] Data)> Inbox { get; } = Channel.CreateUnbounded<(IPEndPoint, byte[])>();

        public IPEndPoint LocalEndPoint { get; } = local;

        public async ValueTask<int> ReceiveFromAsync(Memory<byte> buffer, SocketAddress remoteAddress, CancellationToken cancellationToken)
        {
            var (from, data) = await Inbox.Reader.ReadAsync(cancellationToken);
            var serialized = from.Serialize();
            serialized.Buffer.Span.CopyTo(remoteAddress.Buffer.Span);
            remoteAddress.Size = serialized.Size;
            var length = Math.Min(buffer.Length, data.Length);
            data.AsSpan(0, length).CopyTo(buffer.Span);
            return length;
        }

        public async ValueTask<DatagramReceived> ReceiveMessageFromAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            var (from, data) = await Inbox.Reader.ReadAsync(cancellationToken);
            var length = Math.Min(buffer.Length, data.Length);
            data.AsSpan(0, length).CopyTo(buffer.Span);
            return new DatagramReceived(length, from, LocalEndPoint.Address);
        }

        public ValueTask SendToAsync(ReadOnlyMemory<byte> datagram, SocketAddress remoteAddress, CancellationToken cancellationToken)
        {
            var to = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(remoteAddress);
            network.Deliver(LocalEndPoint, to, datagram.Span);
            return ValueTask.CompletedTask;
        }

        public void Send(IPEndPoint to, ReadOnlySpan<byte> datagram) => network.Deliver(LocalEndPoint, to, datagram);

        /// <summary>Next datagram within <paramref name="wait"/> of real time, or null.</summary>
        public async Task<(IPEndPoint From, byte[] Data)?> ReceiveAsync(TimeSpan wait)
        {
            using var cts = new CancellationTokenSource(wait);
            try
            {
                return await Inbox.Reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }

        public void Dispose() => network._endpoints.TryRemove(LocalEndPoint, out _);
    }
}
