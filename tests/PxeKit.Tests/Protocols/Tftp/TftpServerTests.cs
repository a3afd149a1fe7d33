using System.Net;
using PxeKit.Protocols.Tftp;

namespace PxeKit.Tests.Protocols.Tftp;

public class TftpServerTests
{
    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    [Theory]
    [InlineData(0, 512, 1)]
    [InlineData(512, 512, 1)]      // a multiple of blksize ends with an empty DATA
    [InlineData(100_000, 512, 1)]
    [InlineData(100_000, 1468, 16)]
    [InlineData(1468 * 16, 1468, 16)]
    [InlineData(70_000, 1400, 7)]
    public async Task Download_is_byte_exact(int length, int blockSize, int windowSize)
    {
        await using var harness = new TftpHarness();
        var content = Pattern(length);
        harness.Files.Content["f.bin"] = content;
        using var client = harness.Network.BindClient();

        var received = await harness.DownloadAsync(client, "f.bin", blockSize, windowSize);

        Assert.Equal(content, received);
        var summary = await harness.Files.NextFinishedAsync();
        Assert.Equal(TftpTransferOutcome.Completed, summary.Outcome);
        Assert.Equal(windowSize, summary.WindowSize);
    }

    [Fact]
    public async Task Block_numbers_roll_over_past_65535_and_the_file_arrives_whole()
    {
        await using var harness = new TftpHarness();
        var content = Pattern((65_535 * 8) + (3 * 8) + 5); // blksize 8: 65,539 blocks
        harness.Files.Content["wrap.bin"] = content;
        using var client = harness.Network.BindClient();

        var received = await harness.DownloadAsyncAcceptingRollover(client, "wrap.bin", 8);

        Assert.Equal(content, received);
    }

    [Fact]
    public async Task Lost_data_is_retransmitted_after_the_timeout()
    {
        await using var harness = new TftpHarness();
        harness.Files.Content["f.bin"] = Pattern(2000);
        var dropped = 0;
        harness.Network.Drop = (from, to, data) =>
            TftpHarness.Opcode(data) == 3 && TftpHarness.Block(data) == 2 && Interlocked.Increment(ref dropped) == 1;
        using var client = harness.Network.BindClient();

        client.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("f.bin"));
        var first = await client.ReceiveAsync(TftpHarness.Wait);
        Assert.Equal(1, TftpHarness.Block(first!.Value.Data));
        client.Send(first.Value.From, TftpHarness.Ack(1));
        Assert.Null(await client.ReceiveAsync(TimeSpan.FromMilliseconds(200))); // block 2 was lost

        var again = await harness.AdvanceUntilReceivedAsync(client, TimeSpan.FromSeconds(1), 3);

        Assert.NotNull(again);
        Assert.Equal(2, TftpHarness.Block(again.Value.Data));
    }

    [Fact]
    public async Task Duplicate_acks_do_not_cause_duplicate_data()
    {
        await using var harness = new TftpHarness();
        harness.Files.Content["f.bin"] = Pattern(5000);
        using var client = harness.Network.BindClient();

        client.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("f.bin"));
        var first = (await client.ReceiveAsync(TftpHarness.Wait))!.Value;
        client.Send(first.From, TftpHarness.Ack(1));
        var second = (await client.ReceiveAsync(TftpHarness.Wait))!.Value;
        Assert.Equal(2, TftpHarness.Block(second.Data));

        // Sorcerer's Apprentice (RFC 1123 §4.2.3.1): three more ACKs of block 1 must not resend block 2.
        for (var i = 0; i < 3; i++)
            client.Send(first.From, TftpHarness.Ack(1));

        Assert.Null(await client.ReceiveAsync(TimeSpan.FromMilliseconds(300)));
        client.Send(first.From, TftpHarness.Ack(2));
        Assert.Equal(3, TftpHarness.Block((await client.ReceiveAsync(TftpHarness.Wait))!.Value.Data));
    }

    [Fact]
    public async Task Ack_inside_a_window_restarts_the_window_after_the_acknowledged_block()
    {
        await using var harness = new TftpHarness();
        harness.Files.Content["f.bin"] = Pattern(512 * 20);
        using var client = harness.Network.BindClient();

        client.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("f.bin", "octet", ("windowsize", "4")));
        var oack = (await client.ReceiveAsync(TftpHarness.Wait))!.Value;
        Assert.Equal((ushort)TftpOpcode.OptionAcknowledgement, TftpHarness.Opcode(oack.Data));
        client.Send(oack.From, TftpHarness.Ack(0));
        var blocks = new List<ushort>();
        for (var i = 0; i < 4; i++)
            blocks.Add(TftpHarness.Block((await client.ReceiveAsync(TftpHarness.Wait))!.Value.Data));
        Assert.Equal([1, 2, 3, 4], blocks);
        Assert.Null(await client.ReceiveAsync(TimeSpan.FromMilliseconds(200)));

        // The client saw a gap after block 2 (RFC 7440 §4): it acknowledges 2, the server resends 3..6.
        client.Send(oack.From, TftpHarness.Ack(2));
        blocks.Clear();
        for (var i = 0; i < 4; i++)
            blocks.Add(TftpHarness.Block((await client.ReceiveAsync(TftpHarness.Wait))!.Value.Data));
        Assert.Equal([3, 4, 5, 6], blocks);
    }

    [Fact]
    public async Task Packet_from_a_wrong_port_gets_error_5_and_the_transfer_goes_on()
    {
        await using var harness = new TftpHarness();
        var content = Pattern(3000);
        harness.Files.Content["f.bin"] = content;
        using var client = harness.Network.BindClient();
        using var stranger = harness.Network.BindClient("192.0.2.66");

        client.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("f.bin"));
        var first = (await client.ReceiveAsync(TftpHarness.Wait))!.Value;
        stranger.Send(first.From, TftpHarness.Ack(1));

        var error = (await stranger.ReceiveAsync(TftpHarness.Wait))!.Value;
        Assert.Equal((ushort)TftpOpcode.Error, TftpHarness.Opcode(error.Data));
        Assert.Equal((ushort)TftpErrorCode.UnknownTransferId, TftpHarness.Block(error.Data));
        Assert.Null(await client.ReceiveAsync(TimeSpan.FromMilliseconds(200))); // the stranger's ACK moved nothing

        client.Send(first.From, TftpHarness.Ack(1));
        Assert.Equal(2, TftpHarness.Block((await client.ReceiveAsync(TftpHarness.Wait))!.Value.Data));
    }

    [Fact]
    public async Task Client_that_never_answers_gets_few_retransmissions_and_is_given_up()
    {
        var options = new TftpServerOptions { MaxRetriesBeforeFirstAck = 2 };
        await using var harness = new TftpHarness(options);
        harness.Files.Content["f.bin"] = Pattern(5000);
        using var client = harness.Network.BindClient();

        client.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("f.bin"));
        var packets = (await client.ReceiveAsync(TftpHarness.Wait)) is null ? 0 : 1;
        while (await harness.AdvanceUntilReceivedAsync(client, TimeSpan.FromSeconds(1), 20) is not null)
            packets++;

        Assert.Equal(3, packets); // reflection bound: the first packet and two retransmissions (T19)
        var summary = await harness.Files.NextFinishedAsync();
        Assert.Equal(TftpTransferOutcome.TimedOut, summary.Outcome);
        Assert.Equal(0, harness.Server.ActiveTransfers);
    }

    [Fact]
    public async Task Client_that_vanishes_mid_transfer_is_timed_out_and_its_slot_freed()
    {
        await using var harness = new TftpHarness(new TftpServerOptions { MaxRetries = 3 });
        harness.Files.Content["f.bin"] = Pattern(5000);
        using var client = harness.Network.BindClient();

        client.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("f.bin"));
        var first = (await client.ReceiveAsync(TftpHarness.Wait))!.Value;
        client.Send(first.From, TftpHarness.Ack(1));
        Assert.NotNull(await client.ReceiveAsync(TftpHarness.Wait));
        var retransmissions = 0;
        while (await harness.AdvanceUntilReceivedAsync(client, TimeSpan.FromSeconds(1), 20) is not null)
            retransmissions++;

        Assert.Equal(3, retransmissions);
        var summary = await harness.Files.NextFinishedAsync();
        Assert.Equal(TftpTransferOutcome.TimedOut, summary.Outcome);
        Assert.Equal(512, summary.BytesSent);
        Assert.Equal(0, harness.Server.ActiveTransfers);
        Assert.Equal(2, harness.Network.OpenEndpoints); // the listener and the client: the transfer port is closed
    }

    [Fact]
    public async Task Duplicate_rrq_does_not_start_a_second_transfer()
    {
        await using var harness = new TftpHarness();
        harness.Files.Content["f.bin"] = Pattern(5000);
        using var client = harness.Network.BindClient();

        client.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("f.bin"));
        var first = (await client.ReceiveAsync(TftpHarness.Wait))!.Value;
        client.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("f.bin"));

        Assert.Null(await client.ReceiveAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(1, harness.Files.Opens);
        Assert.Equal(1, harness.Server.ActiveTransfers);
        client.Send(first.From, TftpHarness.Ack(1));
        Assert.Equal(2, TftpHarness.Block((await client.ReceiveAsync(TftpHarness.Wait))!.Value.Data));
    }

    [Fact]
    public async Task Full_server_answers_at_once_with_an_error()
    {
        await using var harness = new TftpHarness(new TftpServerOptions { MaxTransfers = 2 });
        harness.Files.Content["f.bin"] = Pattern(5000);
        using var a = harness.Network.BindClient("192.0.2.10");
        using var b = harness.Network.BindClient("192.0.2.11");
        using var c = harness.Network.BindClient("192.0.2.12");

        a.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("f.bin"));
        b.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("f.bin"));
        Assert.NotNull(await a.ReceiveAsync(TftpHarness.Wait));
        Assert.NotNull(await b.ReceiveAsync(TftpHarness.Wait));
        c.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("f.bin"));

        var answer = (await c.ReceiveAsync(TftpHarness.Wait))!.Value;
        Assert.Equal((ushort)TftpOpcode.Error, TftpHarness.Opcode(answer.Data));
        Assert.True(harness.Logger.Contains("transfers in progress"), harness.Logger.ToString());
    }

    [Fact]
    public async Task Write_request_is_refused_with_access_violation()
    {
        await using var harness = new TftpHarness();
        using var client = harness.Network.BindClient();
        var wrq = TftpHarness.Rrq("upload.bin");
        wrq[1] = 2;

        client.Send(TftpHarness.ServerEndPoint, wrq);

        var answer = (await client.ReceiveAsync(TftpHarness.Wait))!.Value;
        Assert.Equal((ushort)TftpOpcode.Error, TftpHarness.Opcode(answer.Data));
        Assert.Equal((ushort)TftpErrorCode.AccessViolation, TftpHarness.Block(answer.Data));
        Assert.True(harness.Logger.Contains("uploads are disabled"));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0 })]
    [InlineData(new byte[] { 0, 4, 0, 1 })]       // ACK to the request port (T14)
    [InlineData(new byte[] { 0, 3, 0, 1, 65 })]   // DATA to the request port
    [InlineData(new byte[] { 0, 5 })]             // 2-byte ERROR (T13)
    [InlineData(new byte[] { 0xFF, 0xFF, 1, 2 })] // unknown opcode
    [InlineData(new byte[] { 0, 7, 0, 0 })]
    public async Task Junk_on_the_request_port_gets_no_answer_and_the_next_client_is_served(byte[] junk)
    {
        await using var harness = new TftpHarness();
        harness.Files.Content["f.bin"] = Pattern(100);
        using var attacker = harness.Network.BindClient("192.0.2.66");
        using var client = harness.Network.BindClient();

        attacker.Send(TftpHarness.ServerEndPoint, junk);

        Assert.Null(await attacker.ReceiveAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(Pattern(100), await harness.DownloadAsync(client, "f.bin"));
    }

    [Fact]
    public async Task Client_error_after_oack_ends_the_transfer_quietly()
    {
        await using var harness = new TftpHarness();
        harness.Files.Content["f.bin"] = Pattern(5000);
        using var client = harness.Network.BindClient();

        client.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("f.bin", "octet", ("tsize", "0")));
        var oack = (await client.ReceiveAsync(TftpHarness.Wait))!.Value;
        Assert.Contains("tsize\05000\0", System.Text.Encoding.ASCII.GetString(oack.Data), StringComparison.Ordinal);
        var error = new byte[64];
        var length = TftpPacket.WriteError(error, TftpErrorCode.OptionNegotiationFailed, "tsize only");
        client.Send(oack.From, error.AsSpan(0, length));

        var summary = await harness.Files.NextFinishedAsync();
        Assert.Equal(TftpTransferOutcome.ClientAborted, summary.Outcome);
        Assert.Contains("tsize only", summary.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task New_request_from_the_same_port_replaces_the_running_transfer()
    {
        await using var harness = new TftpHarness();
        harness.Files.Content["a.bin"] = Pattern(5000);
        harness.Files.Content["b.bin"] = Pattern(300);
        using var client = harness.Network.BindClient();

        client.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("a.bin", "octet", ("tsize", "0")));
        Assert.NotNull(await client.ReceiveAsync(TftpHarness.Wait));

        Assert.Equal(Pattern(300), await harness.DownloadAsync(client, "b.bin"));
        var outcomes = new[] { await harness.Files.NextFinishedAsync(), await harness.Files.NextFinishedAsync() };
        Assert.Contains(outcomes, s => s.Outcome == TftpTransferOutcome.Superseded && s.RequestedName == "a.bin");
        Assert.Contains(outcomes, s => s.Outcome == TftpTransferOutcome.Completed && s.RequestedName == "b.bin");
    }

    [Fact]
    public async Task Block_size_is_clamped_to_the_path_mtu()
    {
        await using var harness = new TftpHarness(pathMtu: 1500);
        harness.Files.Content["f.bin"] = Pattern(10);
        using var client = harness.Network.BindClient();

        client.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("f.bin", "octet", ("blksize", "65464")));

        var oack = (await client.ReceiveAsync(TftpHarness.Wait))!.Value;
        Assert.Contains("blksize\01468\0", System.Text.Encoding.ASCII.GetString(oack.Data), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Netascii_converts_line_ends_and_announces_no_size()
    {
        await using var harness = new TftpHarness();
        harness.Files.Content["menu.cfg"] = "a\nb\rc"u8.ToArray();
        using var client = harness.Network.BindClient();

        client.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("menu.cfg", "netascii", ("tsize", "0")));
        var first = (await client.ReceiveAsync(TftpHarness.Wait))!.Value;

        // tsize was the only option and is not granted for a converted file, so DATA comes without an OACK.
        Assert.Equal((ushort)TftpOpcode.Data, TftpHarness.Opcode(first.Data));
        Assert.Equal("a\r\nb\r\0c"u8.ToArray(), first.Data[4..]);
    }

    [Fact]
    public async Task Missing_file_gets_error_1_and_the_refusal_is_logged()
    {
        await using var harness = new TftpHarness();
        using var client = harness.Network.BindClient();

        client.Send(TftpHarness.ServerEndPoint, TftpHarness.Rrq("nope.bin"));

        var answer = (await client.ReceiveAsync(TftpHarness.Wait))!.Value;
        Assert.Equal((ushort)TftpErrorCode.FileNotFound, TftpHarness.Block(answer.Data));
        Assert.True(harness.Logger.Contains("refused RRQ from 192.0.2.50"), harness.Logger.ToString());
    }
}
