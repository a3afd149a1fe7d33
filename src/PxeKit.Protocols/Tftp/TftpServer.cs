using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PxeKit.Protocols.Buffers;

namespace PxeKit.Protocols.Tftp;

/// <summary>
/// A TFTP server for read requests (RFC 1350, 2347, 2348, 2349, 7440). It listens on one endpoint, answers each
/// RRQ from a fresh endpoint of its own, and asks <see cref="ITftpFileSource"/> for the bytes.
/// </summary>
public sealed class TftpServer
{
    private static readonly Meter Meter = new("PxeKit.Tftp");
    private static readonly Counter<long> TransfersCounter = Meter.CreateCounter<long>("pxekit.tftp.transfers", description: "Finished TFTP transfers by outcome");
    private static readonly Counter<long> BytesCounter = Meter.CreateCounter<long>("pxekit.tftp.bytes", "By", "Bytes acknowledged by TFTP clients");
    private static readonly Counter<long> RefusalsCounter = Meter.CreateCounter<long>("pxekit.tftp.refusals", description: "Refused TFTP requests");

    private readonly TftpServerOptions _options;
    private readonly ITftpFileSource _files;
    private readonly IDatagramTransport _transport;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<IPAddress, int?> _pathMtu;
    private readonly ConcurrentDictionary<IPEndPoint, ActiveTransfer> _active = new();
    private int _activeCount;

    /// <param name="pathMtu">MTU of the interface that holds a local address, or null when unknown; blksize is
    /// clamped to it so that no DATA is fragmented (many PXE ROMs drop fragments, hostile-inputs T22).</param>
    public TftpServer(
        TftpServerOptions options, ITftpFileSource files, IDatagramTransport transport, TimeProvider time,
        ILogger logger, Func<IPAddress, int?>? pathMtu = null)
    {
        _options = options;
        _files = files;
        _transport = transport;
        _time = time;
        _logger = logger;
        _pathMtu = pathMtu ?? (_ => null);
    }

    /// <summary>Transfers in progress.</summary>
    public int ActiveTransfers => Volatile.Read(ref _activeCount);

    /// <summary>Binds <paramref name="listen"/> and returns the bound endpoint with the task that serves it
    /// until <paramref name="stopping"/> is cancelled. Binding errors throw here, before anything runs.</summary>
    public (IPEndPoint LocalEndPoint, Task Serving) Start(IPEndPoint listen, CancellationToken stopping)
    {
        var endpoint = _transport.Bind(listen);
        TftpLog.Listening(_logger, endpoint.LocalEndPoint);
        return (endpoint.LocalEndPoint, ServeAsync(endpoint, stopping));
    }

    private async Task ServeAsync(IDatagramEndpoint listener, CancellationToken stopping)
    {
        var buffer = new byte[TftpLimits.MaxRequestLength];
        using (listener)
        {
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    var received = await listener.ReceiveMessageFromAsync(buffer, stopping);
                    await HandleAsync(listener, buffer.AsMemory(0, received.Length), received, stopping);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or InvalidOperationException or ArgumentException)
                {
                    // One bad datagram or a transient socket fault must never end the listener (S5).
                    TftpLog.ReceiveFailed(_logger, listener.LocalEndPoint, e);
                }
            }
        }

        // Every transfer's token is linked to `stopping`, so they are all ending; give them a moment to log.
        var deadline = _time.GetTimestamp();
        while (!_active.IsEmpty && _time.GetElapsedTime(deadline) < TimeSpan.FromSeconds(5))
            await Task.Delay(10, CancellationToken.None);
    }

    private async ValueTask HandleAsync(IDatagramEndpoint listener, ReadOnlyMemory<byte> datagram, DatagramReceived received, CancellationToken stopping)
    {
        var client = received.Remote;
        var opcode = TftpPacket.ReadOpcode(datagram.Span);
        if (opcode is not (TftpOpcode.ReadRequest or TftpOpcode.WriteRequest))
        {
            // ACK, DATA or junk sent to the listening port belongs to no transfer (T14): no answer, no amplification.
            TftpLog.Dropped(_logger, client, datagram.Length, opcode is null ? "too short" : $"opcode {(ushort)opcode} on the request port");
            return;
        }

        if (!TftpRequest.TryParse(datagram.Span, out var request, out var code, out var error))
        {
            RefusalsCounter.Add(1);
            TftpLog.Refused(_logger, client, error!);
            await SendErrorAsync(listener, client, code, error!, stopping);
            return;
        }

        if (request!.Opcode == TftpOpcode.WriteRequest)
        {
            RefusalsCounter.Add(1);
            TftpLog.Refused(_logger, client, $"write request for '{request.FileName}': uploads are disabled");
            await SendErrorAsync(listener, client, TftpErrorCode.AccessViolation, "writing is disabled on this server", stopping);
            return;
        }

        if (_active.TryGetValue(client, out var existing))
        {
            if (existing.Request.IsSameAs(request))
            {
                TftpLog.DuplicateRequest(_logger, client, request.FileName);
                return;
            }
            // A PXE ROM that probed tsize (ERROR 8 after our OACK) may reuse its port for the real request before
            // that ERROR reached the old transfer; serve the new request at once instead of making it wait.
            TftpLog.Superseded(_logger, client, request.FileName);
            existing.Supersede();
            _active.TryRemove(new KeyValuePair<IPEndPoint, ActiveTransfer>(client, existing));
        }

        if (Interlocked.Increment(ref _activeCount) > _options.MaxTransfers)
        {
            Interlocked.Decrement(ref _activeCount);
            RefusalsCounter.Add(1);
            TftpLog.Busy(_logger, client, request.FileName, _options.MaxTransfers);
            await SendErrorAsync(listener, client, TftpErrorCode.NotDefined, "server busy, try again", stopping);
            return;
        }

        var started = false;
        try
        {
            started = await StartTransferAsync(listener, request, received, stopping);
        }
        finally
        {
            if (!started)
                Interlocked.Decrement(ref _activeCount);
        }
    }

    private async ValueTask<bool> StartTransferAsync(IDatagramEndpoint listener, TftpRequest request, DatagramReceived received, CancellationToken stopping)
    {
        var client = received.Remote;
        var opened = _files.Open(request.FileName, client);
        if (opened.File is null)
        {
            RefusalsCounter.Add(1);
            TftpLog.Refused(_logger, client, $"'{request.FileName}': {opened.Reason}");
            await SendErrorAsync(listener, client, opened.ErrorCode, opened.ClientMessage ?? "refused", stopping);
            return false;
        }

        var file = opened.File;
        long? announcedLength = file.Length;
        if (request.Mode == TftpTransferMode.NetAscii)
        {
            var converted = NetAsciiFile.TryConvert(file, _options.MaxNetAsciiBytes);
            file.Dispose();
            if (converted is null)
            {
                RefusalsCounter.Add(1);
                TftpLog.Refused(_logger, client, $"'{request.FileName}': netascii mode is limited to {_options.MaxNetAsciiBytes} bytes; use octet (binary) mode");
                await SendErrorAsync(listener, client, TftpErrorCode.IllegalOperation, "file too large for netascii, use octet", stopping);
                return false;
            }
            file = converted;
            announcedLength = null; // never announce a size for a converted file (T23, tftp-hpa does the same)
        }

        var local = listener.LocalEndPoint.Address;
        if (local.Equals(IPAddress.Any) || local.Equals(IPAddress.IPv6Any))
            local = received.LocalAddress;
        var granted = TftpNegotiation.Negotiate(request, announcedLength, MaxBlockSizeFor(local), _options.MaxWindowSize,
            (int)Math.Ceiling(_options.RetransmitTimeout.TotalSeconds));

        IDatagramEndpoint endpoint;
        try
        {
            endpoint = _transport.Bind(new IPEndPoint(local, 0));
        }
        catch (SocketException e)
        {
            file.Dispose();
            TftpLog.Refused(_logger, client, $"'{request.FileName}': no transfer port could be opened on {local} ({e.SocketErrorCode})");
            await SendErrorAsync(listener, client, TftpErrorCode.NotDefined, "server cannot open a transfer port", stopping);
            return false;
        }

        var transfer = new TftpReadTransfer(endpoint, client, file, granted, _options, _time);
        var active = new ActiveTransfer(request, CancellationTokenSource.CreateLinkedTokenSource(stopping));
        _active[client] = active;
        TftpLog.TransferStarted(_logger, client, request.FileName, opened.ServedName!, file.Length, request.Mode,
            granted.BlockSize, granted.WindowSize, granted.TransferSize, endpoint.LocalEndPoint.Port);
        _ = RunTransferAsync(transfer, active, client, request.FileName, opened.ServedName!, file.Length, granted);
        return true;
    }

    private async Task RunTransferAsync(TftpReadTransfer transfer, ActiveTransfer active, IPEndPoint client,
        string requestedName, string servedName, long length, TftpGrantedOptions granted)
    {
        var startedAt = _time.GetTimestamp();
        var outcome = TftpTransferOutcome.Failed;
        try
        {
            outcome = await transfer.RunAsync(active.Token);
            if (active.Superseded)
                outcome = TftpTransferOutcome.Superseded;
        }
        catch (Exception e)
        {
            // A bug in one transfer must not take the server down; it is logged with its stack.
            TftpLog.TransferCrashed(_logger, client, e);
        }
        finally
        {
            _active.TryRemove(new KeyValuePair<IPEndPoint, ActiveTransfer>(client, active));
            active.Dispose();
            transfer.Dispose();
            Interlocked.Decrement(ref _activeCount);
        }

        var elapsed = _time.GetElapsedTime(startedAt);
        var bytes = outcome == TftpTransferOutcome.Completed ? length : transfer.BytesAcknowledged;
        TransfersCounter.Add(1, new KeyValuePair<string, object?>("outcome", outcome.ToString()));
        BytesCounter.Add(bytes);
        if (outcome == TftpTransferOutcome.Completed)
        {
            var seconds = Math.Max(elapsed.TotalSeconds, 1e-6);
            TftpLog.TransferCompleted(_logger, servedName, client, length, elapsed.TotalSeconds, length / seconds / 1e6,
                granted.BlockSize, granted.WindowSize, transfer.Retransmissions);
        }
        else
        {
            TftpLog.TransferEnded(_logger, servedName, client, outcome, bytes, length, transfer.Detail);
        }
        try
        {
            _files.TransferFinished(new TftpTransferSummary(client, requestedName, servedName, outcome, bytes, length, elapsed,
                granted.BlockSize, granted.WindowSize, transfer.Retransmissions, transfer.Detail));
        }
        catch (Exception e)
        {
            TftpLog.TransferCrashed(_logger, client, e);
        }
    }

    private int MaxBlockSizeFor(IPAddress local)
    {
        var max = _options.MaxBlockSize;
        if (_pathMtu(local) is { } mtu)
        {
            var overhead = local.AddressFamily == AddressFamily.InterNetworkV6 ? TftpLimits.Ipv6Overhead : TftpLimits.Ipv4Overhead;
            max = Math.Min(max, Math.Max(TftpLimits.DefaultBlockSize, mtu - overhead));
        }
        return max;
    }

    private async ValueTask SendErrorAsync(IDatagramEndpoint listener, IPEndPoint client, TftpErrorCode code, string message, CancellationToken stopping)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(TftpPacket.MaxErrorMessageBytes + 8);
        try
        {
            var length = TftpPacket.WriteError(buffer, code, message);
            await listener.SendToAsync(buffer.AsMemory(0, length), client.Serialize(), stopping);
        }
        catch (SocketException)
        {
            // The client is unreachable; nothing more to tell it.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A running transfer as the listener sees it. The listener may supersede it while the transfer
    /// itself ends and disposes its cancellation source; the lock keeps those two from racing.</summary>
    private sealed class ActiveTransfer(TftpRequest request, CancellationTokenSource cancellation) : IDisposable
    {
        private readonly Lock _lock = new();
        private bool _disposed;

        public TftpRequest Request { get; } = request;
        public CancellationToken Token { get; } = cancellation.Token;
        public bool Superseded { get; private set; }

        public void Supersede()
        {
            lock (_lock)
            {
                Superseded = true;
                if (!_disposed)
                    cancellation.Cancel();
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _disposed = true;
                cancellation.Dispose();
            }
        }
    }
}
