using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PxeKit.Protocols.Buffers;

namespace PxeKit.Protocols.Tftp;

/// <summary>
/// One read transfer on its own endpoint (RFC 1350 §4: each transfer has its own TID), as an explicit state
/// machine: an optional OACK phase (RFC 2347), then windows of DATA (RFC 7440) acknowledged by the client.
/// Block numbers are 16-bit and roll over to 0 after 65535, as tftp-hpa, dnsmasq and iPXE expect; offsets are
/// 64-bit, so files over 4 GiB are served (hostile-inputs T18).
/// </summary>
internal sealed class TftpReadTransfer : IDisposable
{
    private readonly IDatagramEndpoint _endpoint;
    private readonly SocketAddress _client;
    private readonly ITftpFile _file;
    private readonly TftpGrantedOptions _granted;
    private readonly TftpServerOptions _options;
    private readonly TimeProvider _time;
    private readonly SocketAddress _from;

    /// <summary>Blocks in the file: the last one is shorter than blksize, possibly empty (RFC 1350 §6).</summary>
    private readonly long _lastBlock;

    /// <summary>First block the client has not acknowledged; 0 while our OACK is unacknowledged.</summary>
    private long _windowStart;

    /// <summary>Highest block sent in the current window.</summary>
    private long _sentUpTo;

    private bool _clientAnswered;

    /// <summary>Pooled buffers for windows (laid-out DATA packets, and the file bytes they carry); per transfer at
    /// most 64 segments each, returned at the end.</summary>
    private byte[]? _window;
    private byte[]? _staging;

    public TftpReadTransfer(
        IDatagramEndpoint endpoint, IPEndPoint client, ITftpFile file, TftpGrantedOptions granted,
        TftpServerOptions options, TimeProvider time)
    {
        _endpoint = endpoint;
        _client = client.Serialize();
        _from = new SocketAddress(client.AddressFamily);
        _file = file;
        _granted = granted;
        _options = options;
        _time = time;
        _lastBlock = (file.Length / granted.BlockSize) + 1;
        _windowStart = granted.AnyGranted ? 0 : 1;
    }

    public long Retransmissions { get; private set; }

    public long BytesAcknowledged { get; private set; }

    public string? Detail { get; private set; }

    public IPEndPoint LocalEndPoint => _endpoint.LocalEndPoint;

    /// <summary>Runs the transfer to its end. Never throws for anything the client does.</summary>
    public async Task<TftpTransferOutcome> RunAsync(CancellationToken stopping)
    {
        var packet = ArrayPool<byte>.Shared.Rent(TftpLimits.DataHeaderLength + _granted.BlockSize);
        var received = ArrayPool<byte>.Shared.Rent(TftpLimits.MaxRequestLength);
        var timer = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        var stopRegistration = stopping.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timer);
        try
        {
            await SendCurrentAsync(packet, stopping);
            var timeout = InitialTimeout;
            var retries = 0;
            while (true)
            {
                int length;
                try
                {
                    timer.CancelAfter(timeout);
                    length = await _endpoint.ReceiveFromAsync(received.AsMemory(0, TftpLimits.MaxRequestLength), _from, timer.Token);
                    if (!timer.TryReset())
                        timer = Renew(timer, ref stopRegistration, stopping);
                }
                catch (OperationCanceledException)
                {
                    if (stopping.IsCancellationRequested)
                        return TftpTransferOutcome.ServerStopped;
                    timer = Renew(timer, ref stopRegistration, stopping);
                    var allowed = _clientAnswered ? _options.MaxRetries : Math.Min(_options.MaxRetries, _options.MaxRetriesBeforeFirstAck);
                    if (++retries > allowed)
                    {
                        Detail = _clientAnswered
                            ? $"client stopped answering after block {_windowStart - 1} ({retries - 1} retransmissions)"
                            : "client never acknowledged the first packet";
                        return TftpTransferOutcome.TimedOut;
                    }
                    Retransmissions++;
                    timeout = timeout * 2 > _options.MaxRetransmitTimeout ? _options.MaxRetransmitTimeout : timeout * 2;
                    await SendCurrentAsync(packet, stopping);
                    continue;
                }

                if (!_from.Equals(_client))
                {
                    // RFC 1350 §4: a packet from a wrong TID gets ERROR 5 and the transfer goes on (T17).
                    var errorLength = TftpPacket.WriteError(packet, TftpErrorCode.UnknownTransferId, "unknown transfer ID");
                    await SendQuietlyAsync(packet.AsMemory(0, errorLength), _from, stopping);
                    continue;
                }

                var opcode = TftpPacket.ReadOpcode(received.AsSpan(0, length));
                if (opcode == TftpOpcode.Acknowledgement && TftpPacket.TryReadAck(received.AsSpan(0, length), out var block))
                {
                    if (!Acknowledge(block))
                        continue; // duplicate or stale ACK: never answered with DATA (Sorcerer's Apprentice, T16)
                    if (_windowStart > _lastBlock)
                        return TftpTransferOutcome.Completed;
                    retries = 0;
                    timeout = InitialTimeout;
                    await SendCurrentAsync(packet, stopping);
                }
                else if (opcode == TftpOpcode.Error)
                {
                    // PXE ROMs end a tsize probe with ERROR 8 after our OACK; that is the client's choice.
                    Detail = "client sent ERROR " + TftpPacket.DescribeError(received.AsSpan(0, length));
                    return TftpTransferOutcome.ClientAborted;
                }
                else
                {
                    Detail = $"client sent a {length}-byte packet that is not an ACK";
                    var illegal = TftpPacket.WriteError(packet, TftpErrorCode.IllegalOperation, "expected ACK");
                    await SendQuietlyAsync(packet.AsMemory(0, illegal), _client, stopping);
                    return TftpTransferOutcome.Failed;
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return TftpTransferOutcome.ServerStopped;
        }
        catch (IOException e)
        {
            Detail = "reading the file failed: " + e.Message;
            var errorLength = TftpPacket.WriteError(packet, TftpErrorCode.NotDefined, "read error on server");
            await SendQuietlyAsync(packet.AsMemory(0, errorLength), _client, CancellationToken.None);
            return TftpTransferOutcome.Failed;
        }
        catch (SocketException e)
        {
            Detail = "network error: " + e.SocketErrorCode;
            return TftpTransferOutcome.Failed;
        }
        finally
        {
            stopRegistration.Dispose();
            timer.Dispose();
            ArrayPool<byte>.Shared.Return(packet);
            ArrayPool<byte>.Shared.Return(received);
            if (_window is not null)
                ArrayPool<byte>.Shared.Return(_window);
            if (_staging is not null)
                ArrayPool<byte>.Shared.Return(_staging);
        }
    }

    private TimeSpan InitialTimeout => _granted.TimeoutGranted
        ? TimeSpan.FromSeconds(_granted.TimeoutSeconds)
        : _options.RetransmitTimeout;

    /// <summary>
    /// Applies an ACK. Only an ACK that moves the window forward counts; one for a block already acknowledged is a
    /// duplicate and changes nothing. The 16-bit number is matched against the blocks in flight, which is unique
    /// because a window is at most 65535 blocks.
    /// </summary>
    private bool Acknowledge(ushort block)
    {
        if (_windowStart == 0)
        {
            if (block != 0)
                return false;
            _clientAnswered = true;
            _windowStart = 1;
            return true;
        }

        var acknowledgedBefore = _windowStart - 1;
        var advance = (ushort)(block - (ushort)acknowledgedBefore);
        if (advance == 0 || advance > _sentUpTo - acknowledgedBefore)
            return false;
        _clientAnswered = true;
        _windowStart = acknowledgedBefore + advance + 1;
        BytesAcknowledged = Math.Min(_file.Length, (_windowStart - 1) * _granted.BlockSize);
        return true;
    }

    /// <summary>Sends the OACK, or the window starting at the first unacknowledged block (RFC 7440 §4: after a
    /// time-out or an ACK inside the window the sender restarts from the block after the last one acknowledged).</summary>
    private async ValueTask SendCurrentAsync(byte[] packet, CancellationToken stopping)
    {
        if (_windowStart == 0)
        {
            var length = TftpPacket.WriteOptionAcknowledgement(packet, _granted);
            await _endpoint.SendToAsync(packet.AsMemory(0, length), _client, stopping);
            return;
        }

        var last = Math.Min(_lastBlock, _windowStart + _granted.WindowSize - 1);
        if (last == _windowStart)
        {
            var payload = ReadBlock(_windowStart, packet.AsSpan(TftpLimits.DataHeaderLength, _granted.BlockSize));
            TftpPacket.WriteDataHeader(packet, (ushort)_windowStart);
            await _endpoint.SendToAsync(packet.AsMemory(0, TftpLimits.DataHeaderLength + payload), _client, stopping);
        }
        else
        {
            await SendWindowAsync(_windowStart, last, stopping);
        }
        _sentUpTo = last;
    }

    /// <summary>
    /// Sends blocks <paramref name="first"/>..<paramref name="last"/> in chunks: one file read per chunk, the DATA
    /// packets laid out back to back, one send per chunk where the platform segments datagrams itself.
    /// </summary>
    private async ValueTask SendWindowAsync(long first, long last, CancellationToken stopping)
    {
        var segmentSize = TftpLimits.DataHeaderLength + _granted.BlockSize;
        var perSend = Math.Max(1, Math.Min(_granted.WindowSize, _endpoint.MaxSegmentsPerSend(segmentSize)));
        _window ??= ArrayPool<byte>.Shared.Rent(perSend * segmentSize);
        _staging ??= ArrayPool<byte>.Shared.Rent(perSend * _granted.BlockSize);
        for (var chunkStart = first; chunkStart <= last; chunkStart += perSend)
        {
            var blocks = (int)Math.Min(perSend, last - chunkStart + 1);
            var length = LayOutChunk(chunkStart, blocks, segmentSize);
            await _endpoint.SendSegmentsAsync(_window.AsMemory(0, length), segmentSize, _client, stopping);
        }
    }

    private int LayOutChunk(long firstBlock, int blocks, int segmentSize)
    {
        var offset = (firstBlock - 1) * _granted.BlockSize;
        var wanted = (int)Math.Min((long)blocks * _granted.BlockSize, _file.Length - offset);
        var staging = _staging.AsSpan(0, wanted);
        var total = 0;
        while (total < wanted)
        {
            var read = _file.Read(offset + total, staging[total..]);
            if (read <= 0)
                throw new IOException($"file ended at byte {offset + total} of {_file.Length}: it shrank during the transfer");
            total += read;
        }

        var length = 0;
        for (var i = 0; i < blocks; i++)
        {
            var payloadStart = i * _granted.BlockSize;
            var payload = Math.Min(_granted.BlockSize, wanted - payloadStart);
            TftpPacket.WriteDataHeader(_window.AsSpan(length), (ushort)(firstBlock + i));
            staging.Slice(payloadStart, payload).CopyTo(_window.AsSpan(length + TftpLimits.DataHeaderLength));
            length += TftpLimits.DataHeaderLength + payload;
            if (payload < _granted.BlockSize)
                break; // the short last block ends the file
        }
        return length;
    }

    private int ReadBlock(long block, Span<byte> destination)
    {
        var offset = (block - 1) * _granted.BlockSize;
        var wanted = (int)Math.Min(_granted.BlockSize, _file.Length - offset);
        var total = 0;
        while (total < wanted)
        {
            var read = _file.Read(offset + total, destination[total..wanted]);
            if (read <= 0)
                throw new IOException($"file ended at byte {offset + total} of {_file.Length}: it shrank during the transfer");
            total += read;
        }
        return total;
    }

    private async ValueTask SendQuietlyAsync(ReadOnlyMemory<byte> datagram, SocketAddress to, CancellationToken stopping)
    {
        try
        {
            await _endpoint.SendToAsync(datagram, to, stopping);
        }
        catch (SocketException)
        {
            // An ERROR is a courtesy; if it cannot be sent the transfer ends all the same.
        }
    }

    /// <summary>A time-out fired: the old source cannot be reset, so take a fresh one (time-outs only, not per packet).</summary>
    private CancellationTokenSource Renew(CancellationTokenSource old, ref CancellationTokenRegistration registration, CancellationToken stopping)
    {
        registration.Dispose();
        old.Dispose();
        var fresh = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        registration = stopping.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), fresh);
        return fresh;
    }

    public void Dispose()
    {
        _endpoint.Dispose();
        _file.Dispose();
    }
}
