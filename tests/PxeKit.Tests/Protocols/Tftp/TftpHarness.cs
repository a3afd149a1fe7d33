using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using PxeKit.Protocols.Tftp;
using PxeKit.Tests.Infrastructure;

namespace PxeKit.Tests.Protocols.Tftp;

/// <summary>A TFTP server on an in-memory network with a fake clock, and a hand-driven client.</summary>
internal sealed class TftpHarness : IAsyncDisposable
{
    public static readonly IPEndPoint ServerEndPoint = new(IPAddress.Parse("192.0.2.1"), 69);
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    public TftpHarness(TftpServerOptions? options = null, int? pathMtu = null)
    {
        Options = options ?? new TftpServerOptions();
        Server = new TftpServer(Options, Files, Network, Time, Logger, _ => pathMtu);
        (_, _serving) = Server.Start(ServerEndPoint, _stop.Token);
    }

    public InMemoryNetwork Network { get; } = new();
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    public TestLogger Logger { get; } = new();
    public MemoryFiles Files { get; } = new();
    public TftpServerOptions Options { get; }
    public TftpServer Server { get; }

    public static byte[] Rrq(string name, string mode = "octet", params (string Name, string Value)[] options)
    {
        var bytes = new List<byte> { 0, 1 };
        bytes.AddRange(Encoding.UTF8.GetBytes(name));
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

    public static byte[] Ack(ushort block)
    {
        var ack = new byte[4];
        TftpPacket.WriteAck(ack, block);
        return ack;
    }

    public static ushort Opcode(byte[] packet) => BinaryPrimitives.ReadUInt16BigEndian(packet);

    public static ushort Block(byte[] packet) => BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(2));

    /// <summary>Advances the fake clock in steps until the client receives a datagram; null when none comes.</summary>
    public async Task<(IPEndPoint From, byte[] Data)?> AdvanceUntilReceivedAsync(InMemoryNetwork.InMemoryEndpoint client, TimeSpan step, int maxSteps)
    {
        for (var i = 0; i < maxSteps; i++)
        {
            Time.Advance(step);
            if (await client.ReceiveAsync(TimeSpan.FromMilliseconds(50)) is { } packet)
                return packet;
        }
        return null;
    }

    /// <summary>Downloads <paramref name="name"/> as a well-behaved lock-step or windowed client.</summary>
    public async Task<byte[]> DownloadAsync(InMemoryNetwork.InMemoryEndpoint client, string name, int blockSize = 512, int windowSize = 1)
    {
        var options = new List<(string, string)>();
        if (blockSize != 512)
            options.Add(("blksize", blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (windowSize != 1)
            options.Add(("windowsize", windowSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        client.Send(ServerEndPoint, Rrq(name, "octet", [.. options]));

        var received = new MemoryStream();
        ushort expected = 1;
        var inWindow = 0;
        while (true)
        {
            var packet = await client.ReceiveAsync(Wait) ?? throw new TimeoutException("server sent nothing");
            var (from, data) = packet;
            if (Opcode(data) == (ushort)TftpOpcode.OptionAcknowledgement)
            {
                client.Send(from, Ack(0));
                continue;
            }
            Assert.Equal((ushort)TftpOpcode.Data, Opcode(data));
            Assert.Equal(expected, Block(data));
            received.Write(data, 4, data.Length - 4);
            var last = data.Length - 4 < blockSize;
            if (++inWindow == windowSize || last)
            {
                client.Send(from, Ack(expected));
                inWindow = 0;
            }
            expected++;
            if (last)
                return received.ToArray();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _serving.WaitAsync(Wait);
        _stop.Dispose();
    }

    /// <summary>Files by name, exactly (the boot file system's mapping is tested on its own).</summary>
    internal sealed class MemoryFiles : ITftpFileSource
    {
        public ConcurrentDictionary<string, byte[]> Content { get; } = new();
        public ConcurrentQueue<TftpTransferSummary> Finished { get; } = new();
        public int Opens;

        public TftpOpenResult Open(string requestedName, IPEndPoint client)
        {
            Interlocked.Increment(ref Opens);
            return Content.TryGetValue(requestedName, out var bytes)
                ? TftpOpenResult.Found(new MemoryFile(bytes), requestedName)
                : TftpOpenResult.Refused(TftpErrorCode.FileNotFound, "file not found", $"'{requestedName}' does not exist");
        }

        public void TransferFinished(in TftpTransferSummary summary) => Finished.Enqueue(summary);

        public async Task<TftpTransferSummary> NextFinishedAsync()
        {
            var deadline = DateTime.UtcNow + Wait;
            while (DateTime.UtcNow < deadline)
            {
                if (Finished.TryDequeue(out var summary))
                    return summary;
                await Task.Delay(10);
            }
            throw new TimeoutException("no transfer finished");
        }
    }

    private sealed class MemoryFile(byte[] bytes) : ITftpFile
    {
        public long Length => bytes.Length;

        public int Read(long offset, Span<byte> destination)
        {
            if (offset >= bytes.Length)
                return 0;
            var count = (int)Math.Min(destination.Length, bytes.Length - offset);
            bytes.AsSpan((int)offset, count).CopyTo(destination);
            return count;
        }

        public void Dispose()
        {
        }
    }
}

internal static class TftpHarnessRollover
{
    /// <summary>Lock-step download that expects block numbers to wrap from 65535 to 0.</summary>
    public static async Task<byte[]> DownloadAsyncAcceptingRollover(this TftpHarness harness,
        PxeKit.Tests.Infrastructure.InMemoryNetwork.InMemoryEndpoint client, string name, int blockSize)
    {
        client.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq(name, "octet",
            ("blksize", blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        var oack = await client.ReceiveAsync(TftpHarness.Wait) ?? throw new TimeoutException();
        client.Send(oack.From, TftpHarness.Ack(0));
        var received = new MemoryStream();
        long block = 1;
        while (true)
        {
            var (from, data) = await client.ReceiveAsync(TftpHarness.Wait) ?? throw new TimeoutException($"no block {block}");
            Assert.Equal((ushort)block, TftpHarness.Block(data));
            received.Write(data, 4, data.Length - 4);
            client.Send(from, TftpHarness.Ack((ushort)block));
            block++;
            if (data.Length - 4 < blockSize)
                return received.ToArray();
        }
    }
}
