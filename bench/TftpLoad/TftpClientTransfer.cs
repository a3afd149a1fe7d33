using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PxeKit.Bench.TftpLoad;

/// <summary>Options a transfer asks for; 0 means "do not ask".</summary>
internal sealed record TransferOptions(int BlockSize, int WindowSize, bool TransferSize, TimeSpan Timeout, int MaxRetries);

/// <summary>How one transfer ended.</summary>
internal readonly record struct TransferResult(
    bool Completed, long VerifiedBytes, long Timeouts, long Duplicates, long OutOfOrder, string? Failure);

/// <summary>
/// One TFTP read transfer (RFC 1350) with blksize, tsize (RFC 2348/2349) and windowsize (RFC 7440) from its own
/// UDP socket. Every DATA payload is compared with the expected file at its offset before it is acknowledged.
/// Block numbers are 16-bit on the wire and roll over; the transfer counts blocks in 64 bits and matches the wire
/// number against the next expected one modulo 65536.
/// </summary>
internal sealed class TftpClientTransfer
{
    private const ushort OpRrq = 1;
    private const ushort OpData = 3;
    private const ushort OpAck = 4;
    private const ushort OpError = 5;
    private const ushort OpOack = 6;

    public const string StoppedAtTimeLimit = "stopped at the time limit";

    private readonly IPEndPoint _server;
    private readonly string _fileName;
    private readonly ExpectedContent _expected;
    private readonly TransferOptions _options;

    private long _timeouts;
    private long _duplicates;
    private long _outOfOrder;
    private long _verified;

    public TftpClientTransfer(IPEndPoint server, string fileName, ExpectedContent expected, TransferOptions options)
    {
        _server = server;
        _fileName = fileName;
        _expected = expected;
        _options = options;
    }

    public async Task<TransferResult> RunAsync(CancellationToken stopping)
    {
        try
        {
            var failure = await RunCoreAsync(stopping);
            return new TransferResult(failure is null, _verified, _timeouts, _duplicates, _outOfOrder, failure);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return new TransferResult(false, _verified, _timeouts, _duplicates, _outOfOrder, StoppedAtTimeLimit);
        }
        catch (SocketException e)
        {
            return new TransferResult(false, _verified, _timeouts, _duplicates, _outOfOrder, "socket error " + e.SocketErrorCode);
        }
    }

    private async Task<string?> RunCoreAsync(CancellationToken stopping)
    {
        using var socket = new Socket(_server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveBufferSize = 1 << 20;
        socket.Bind(new IPEndPoint(_server.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0));

        var cursor = _expected.CreateCursor();
        var receive = new byte[65536 + 4];
        var request = BuildRequest();
        var ack = new byte[4];
        var from = new SocketAddress(_server.AddressFamily);
        var serverAddress = _server.Serialize();
        SocketAddress? peer = null; // the server's transfer endpoint (its TID), known from its first answer

        var blockSize = 512;
        var windowSize = 1;
        var next = 1L;               // next block expected, counted in 64 bits
        var sinceAck = 0;            // in-order blocks received since our last ACK: the server's window position
        var answeredAnomaly = false; // one ACK per burst of duplicates or gaps, then wait for progress or a time-out
        var retries = 0;
        ReadOnlyMemory<byte> lastSent = request;

        // One time-out source per transfer, re-armed per datagram; replaced only after it fired.
        var timer = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        try
        {
            await socket.SendToAsync(request, SocketFlags.None, serverAddress, stopping);

            while (true)
            {
                int length;
                try
                {
                    timer.CancelAfter(_options.Timeout);
                    length = await socket.ReceiveFromAsync(receive, SocketFlags.None, from, timer.Token);
                    if (!timer.TryReset())
                    {
                        timer.Dispose();
                        timer = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                    }
                }
                catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
                {
                    timer.Dispose();
                    timer = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                    if (++retries > _options.MaxRetries)
                        return $"no answer after {retries - 1} retransmissions at block {next}";
                    _timeouts++;
                    answeredAnomaly = false;
                    await socket.SendToAsync(lastSent, SocketFlags.None, peer ?? serverAddress, stopping);
                    continue;
                }

                if (peer is null)
                {
                    if (!SameAddress(from, serverAddress))
                        continue;
                    peer = new SocketAddress(from.Family, from.Size);
                    from.Buffer.Span.CopyTo(peer.Buffer.Span);
                }
                else if (!from.Equals(peer))
                {
                    continue; // a stray datagram from another TID: not ours
                }

                if (length < 4)
                    return $"{length}-byte datagram from the server";
                var span = receive.AsSpan(0, length);
                var opcode = BinaryPrimitives.ReadUInt16BigEndian(span);
                switch (opcode)
                {
                    case OpError:
                        return "server sent ERROR " + BinaryPrimitives.ReadUInt16BigEndian(span[2..]) + ": " +
                            Encoding.ASCII.GetString(span[4..].TrimEnd((byte)0));

                    case OpOack:
                        if (next != 1 || sinceAck != 0)
                            continue; // a late duplicate OACK after data started
                        if (lastSent.Span.SequenceEqual(request))
                        {
                            var problem = ApplyOack(span[2..], ref blockSize, ref windowSize);
                            if (problem is not null)
                                return problem;
                        }
                        else
                        {
                            _duplicates++;
                        }
                        retries = 0;
                        lastSent = await SendAckAsync(socket, ack, 0, peer, stopping);
                        continue;

                    case OpData:
                        break;

                    default:
                        return $"unexpected opcode {opcode} from the server";
                }

                var block = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
                var distance = (ushort)(block - (ushort)next);
                if (distance != 0)
                {
                    // Behind: a retransmitted window we already have; ahead: a block was lost (RFC 7440 §4). Either way
                    // the server needs to hear the last block we hold in order, once.
                    if (distance < 0x8000)
                        _outOfOrder++;
                    else
                        _duplicates++;
                    if (!answeredAnomaly)
                    {
                        answeredAnomaly = true;
                        sinceAck = 0;
                        lastSent = await SendAckAsync(socket, ack, (ushort)(next - 1), peer, stopping);
                    }
                    continue;
                }

                var payload = span[4..];
                if (payload.Length > blockSize)
                    return $"block {next} carries {payload.Length} bytes, more than blksize {blockSize}";
                var offset = (next - 1) * blockSize;
                if (!cursor.Matches(offset, payload))
                    return $"block {next} (offset {offset}, {payload.Length} bytes) differs from {_expected.Path}";
                _verified += payload.Length;
                retries = 0;
                answeredAnomaly = false;

                if (payload.Length < blockSize)
                {
                    if (offset + payload.Length != _expected.Length)
                        return $"transfer ended at {offset + payload.Length} bytes, expected {_expected.Length}";
                    await SendAckAsync(socket, ack, block, peer, stopping);
                    return null;
                }

                next++;
                if (++sinceAck >= windowSize)
                {
                    sinceAck = 0;
                    lastSent = await SendAckAsync(socket, ack, block, peer, stopping);
                }
            }
        }
        finally
        {
            timer.Dispose();
        }
    }

    private static async ValueTask<ReadOnlyMemory<byte>> SendAckAsync(Socket socket, byte[] ack, ushort block, SocketAddress to, CancellationToken stopping)
    {
        BinaryPrimitives.WriteUInt16BigEndian(ack, OpAck);
        BinaryPrimitives.WriteUInt16BigEndian(ack.AsSpan(2), block);
        await socket.SendToAsync(ack, SocketFlags.None, to, stopping);
        return ack;
    }

    private static bool SameAddress(SocketAddress a, SocketAddress b)
    {
        // Compare the IP address only: the server answers from a new port (its TID).
        var ea = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(a);
        var eb = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(b);
        return ea.Address.Equals(eb.Address);
    }

    private byte[] BuildRequest()
    {
        var parts = new List<string> { _fileName, "octet" };
        if (_options.BlockSize > 0)
            parts.AddRange(["blksize", _options.BlockSize.ToString(CultureInfo.InvariantCulture)]);
        if (_options.TransferSize)
            parts.AddRange(["tsize", "0"]);
        if (_options.WindowSize > 0)
            parts.AddRange(["windowsize", _options.WindowSize.ToString(CultureInfo.InvariantCulture)]);
        var body = string.Concat(parts.Select(p => p + "\0"));
        var packet = new byte[2 + Encoding.ASCII.GetByteCount(body)];
        BinaryPrimitives.WriteUInt16BigEndian(packet, OpRrq);
        Encoding.ASCII.GetBytes(body, packet.AsSpan(2));
        return packet;
    }

    /// <summary>Applies an OACK; a server may grant less than asked, never more, and never an option not asked for.</summary>
    private string? ApplyOack(ReadOnlySpan<byte> options, ref int blockSize, ref int windowSize)
    {
        var text = Encoding.ASCII.GetString(options).TrimEnd('\0').Split('\0');
        if (text.Length % 2 != 0)
            return "malformed OACK";
        for (var i = 0; i < text.Length; i += 2)
        {
            var name = text[i].ToLowerInvariant();
            if (!long.TryParse(text[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                return $"OACK {name}={text[i + 1]} is not a number";
            switch (name)
            {
                case "blksize" when _options.BlockSize > 0 && value >= 8 && value <= _options.BlockSize:
                    blockSize = (int)value;
                    break;
                case "windowsize" when _options.WindowSize > 0 && value >= 1 && value <= _options.WindowSize:
                    windowSize = (int)value;
                    break;
                case "tsize" when _options.TransferSize:
                    if (value != _expected.Length)
                        return $"OACK tsize {value}, expected {_expected.Length}";
                    break;
                default:
                    return $"OACK grants {name}={value}, which was not asked for or is out of range";
            }
        }
        return null;
    }
}
