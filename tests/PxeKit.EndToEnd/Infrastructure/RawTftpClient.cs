using System.Security.Cryptography;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PxeKit.EndToEnd.Infrastructure;

/// <summary>A UDP socket for sending exactly the bytes a hostile or odd client sends, and reading the answers.</summary>
public sealed class RawTftpClient : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

    public RawTftpClient(string bindAddress = "127.0.0.1") => _socket.Bind(new IPEndPoint(IPAddress.Parse(bindAddress), 0));

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public void Send(IPEndPoint to, ReadOnlySpan<byte> datagram) => _socket.SendTo(datagram, SocketFlags.None, to);

    /// <summary>Next datagram within <paramref name="wait"/>, or null.</summary>
    public async Task<(IPEndPoint From, byte[] Data)?> ReceiveAsync(TimeSpan wait)
    {
        var buffer = new byte[70_000];
        using var cts = new CancellationTokenSource(wait);
        try
        {
            var result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cts.Token);
            return ((IPEndPoint)result.RemoteEndPoint, buffer[..result.ReceivedBytes]);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public static byte[] Request(ushort opcode, byte[] name, string mode, params (string Name, string Value)[] options)
    {
        var bytes = new List<byte> { (byte)(opcode >> 8), (byte)opcode };
        bytes.AddRange(name);
        bytes.Add(0);
        bytes.AddRange(Encoding.ASCII.GetBytes(mode));
        bytes.Add(0);
        foreach (var (optionName, value) in options)
        {
            bytes.AddRange(Encoding.ASCII.GetBytes(optionName));
            bytes.Add(0);
            bytes.AddRange(Encoding.ASCII.GetBytes(value));
            bytes.Add(0);
        }
        return [.. bytes];
    }

    public static byte[] Rrq(string name, params (string Name, string Value)[] options) =>
        Request(1, Encoding.UTF8.GetBytes(name), "octet", options);

    public static byte[] Ack(ushort block) => [0, 4, (byte)(block >> 8), (byte)block];

    public static ushort Opcode(byte[] packet) => BinaryPrimitives.ReadUInt16BigEndian(packet);

    public static ushort Word(byte[] packet) => BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(2));

    /// <summary>Options of an OACK as name → value.</summary>
    public static Dictionary<string, string> OackOptions(byte[] packet)
    {
        var parts = Encoding.ASCII.GetString(packet, 2, packet.Length - 2).Split('\0');
        var options = new Dictionary<string, string>();
        for (var i = 0; i + 1 < parts.Length; i += 2)
            options.Add(parts[i], parts[i + 1]);
        return options;
    }

    /// <summary>Downloads with the given options as a correct windowed client; returns the bytes and the OACK.</summary>
    public async Task<(byte[] Content, Dictionary<string, string> Oack)> DownloadAsync(IPEndPoint server, string name,
        int blockSize = 512, int windowSize = 1, TimeSpan? timeout = null, Stream? sink = null)
    {
        var options = new List<(string, string)> { ("tsize", "0") };
        if (blockSize != 512)
            options.Add(("blksize", blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (windowSize != 1)
            options.Add(("windowsize", windowSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Send(server, Rrq(name, [.. options]));
        var wait = timeout ?? TimeSpan.FromSeconds(5);
        var first = await ReceiveAsync(wait) ?? throw new TimeoutException("no answer to RRQ");
        if (Opcode(first.Data) == 5)
            throw new IOException($"server refused: code {Word(first.Data)} {Encoding.ASCII.GetString(first.Data, 4, first.Data.Length - 5)}");
        var oack = Opcode(first.Data) == 6 ? OackOptions(first.Data) : [];
        var transferPort = first.From;
        var granted = oack.TryGetValue("blksize", out var b) ? int.Parse(b, System.Globalization.CultureInfo.InvariantCulture) : 512;
        var window = oack.TryGetValue("windowsize", out var w) ? int.Parse(w, System.Globalization.CultureInfo.InvariantCulture) : 1;
        var content = sink ?? new MemoryStream();
        var expected = (ushort)1;
        var inWindow = 0;
        (IPEndPoint From, byte[] Data)? packet = first;
        if (Opcode(first.Data) == 6)
        {
            Send(transferPort, Ack(0));
            packet = null;
        }
        while (true)
        {
            packet ??= await ReceiveAsync(wait) ?? throw new TimeoutException($"no DATA {expected}");
            var data = packet.Value.Data;
            packet = null;
            if (Opcode(data) != 3)
                throw new IOException($"expected DATA, got opcode {Opcode(data)}");
            if (Word(data) != expected)
            {
                Send(transferPort, Ack((ushort)(expected - 1))); // gap: restart the window after the last in-order block
                inWindow = 0;
                continue;
            }
            content.Write(data, 4, data.Length - 4);
            var last = data.Length - 4 < granted;
            if (++inWindow == window || last)
            {
                Send(transferPort, Ack(expected));
                inWindow = 0;
            }
            expected++;
            if (last)
                return (content is MemoryStream memory ? memory.ToArray() : [], oack);
        }
    }

    public void Dispose() => _socket.Dispose();
}

public static class RawTftpClientStreaming
{
    /// <summary>A windowed download that hashes instead of keeping the bytes (for files larger than memory should
    /// hold); one reused buffer, 64-bit byte count, any number of block-number wraps.</summary>
    public static async Task<long> DownloadHashingAsync(this RawTftpClient client, IPEndPoint server, string name,
        int blockSize, int windowSize, IncrementalHash hash, TimeSpan limit)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
            System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.ReceiveBufferSize = 8 << 20;
        socket.SendTo(RawTftpClient.Rrq(name, ("blksize", blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("windowsize", windowSize.ToString(System.Globalization.CultureInfo.InvariantCulture))), server);
        using var cts = new CancellationTokenSource(limit);
        var buffer = new byte[blockSize + 4];
        var from = new System.Net.SocketAddress(System.Net.Sockets.AddressFamily.InterNetwork);
        var n = await socket.ReceiveFromAsync(buffer, System.Net.Sockets.SocketFlags.None, from, cts.Token);
        if (RawTftpClient.Opcode(buffer) != 6)
            throw new IOException("expected an OACK");
        var transfer = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(from);
        var oack = RawTftpClient.OackOptions(buffer[..n]);
        var granted = int.Parse(oack["blksize"], System.Globalization.CultureInfo.InvariantCulture);
        var window = int.Parse(oack["windowsize"], System.Globalization.CultureInfo.InvariantCulture);
        socket.SendTo(RawTftpClient.Ack(0), transfer);
        long total = 0;
        var expected = (ushort)1;
        var inWindow = 0;
        while (true)
        {
            n = await socket.ReceiveFromAsync(buffer, System.Net.Sockets.SocketFlags.None, from, cts.Token);
            if (RawTftpClient.Opcode(buffer) != 3)
                throw new IOException($"expected DATA, got opcode {RawTftpClient.Opcode(buffer)}");
            if (RawTftpClient.Word(buffer) != expected)
            {
                if (inWindow != 0)
                    socket.SendTo(RawTftpClient.Ack((ushort)(expected - 1)), transfer);
                inWindow = 0;
                continue;
            }
            hash.AppendData(buffer, 4, n - 4);
            total += n - 4;
            var last = n - 4 < granted;
            if (++inWindow == window || last)
            {
                socket.SendTo(RawTftpClient.Ack(expected), transfer);
                inWindow = 0;
            }
            expected++;
            if (last)
                return total;
        }
    }
}
