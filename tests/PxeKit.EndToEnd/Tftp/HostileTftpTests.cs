using System.Net;
using System.Security.Cryptography;
using System.Text;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Tftp;

/// <summary>A pxekit process whose retransmission time-out is short, so abandoned transfers end quickly.</summary>
public sealed class HostileTftpFixture : IAsyncLifetime
{
    public PxeKitProcess Server { get; private set; } = null!;
    public static readonly byte[] Small = PxeKitProcess.RandomBytes(3_000, 3);
    public const string Secret = "TOP-SECRET-OUTSIDE-THE-ROOT";

    public async Task InitializeAsync()
    {
        Server = await PxeKitProcess.StartAsync(
            "tftp:\n  retransmit-timeout: 300ms\n  max-transfers: 40\n  remap:\n    - match: '^prefix/'\n      replace: 'boot/'\n",
            root =>
            {
                File.WriteAllBytes(Path.Combine(root, "small.bin"), Small);
                Directory.CreateDirectory(Path.Combine(root, "boot"));
                File.WriteAllBytes(Path.Combine(root, "boot", "bcd"), Small);
                var secret = Path.Combine(Path.GetDirectoryName(root)!, "secret.txt");
                File.WriteAllText(secret, Secret);
                File.CreateSymbolicLink(Path.Combine(root, "escape"), secret);
                File.CreateSymbolicLink(Path.Combine(root, "passwd"), "/etc/passwd");
            }, "--log-level", "debug");
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>hostile-inputs.md §2.1 (T1-T26): each malformed or hostile request is refused the way the spec says,
/// nothing outside the root is sent, and the next legitimate client is served.</summary>
public sealed class HostileTftpTests(HostileTftpFixture fixture) : IClassFixture<HostileTftpFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);
    private PxeKitProcess Server => fixture.Server;

    private async Task AssertNextClientIsServedAsync()
    {
        using var client = new RawTftpClient();
        var (content, _) = await client.DownloadAsync(Server.TftpEndPoint, "small.bin");
        Assert.Equal(HostileTftpFixture.Small, content);
    }

    /// <summary>Sends one request and returns the ERROR code of the answer; fails if DATA or an OACK comes back.</summary>
    private async Task<ushort> RefusalCodeAsync(byte[] request)
    {
        using var client = new RawTftpClient();
        client.Send(Server.TftpEndPoint, request);
        var answer = await client.ReceiveAsync(Wait);
        Assert.NotNull(answer);
        Assert.DoesNotContain(HostileTftpFixture.Secret, Encoding.Latin1.GetString(answer.Value.Data), StringComparison.Ordinal);
        Assert.Equal(5, RawTftpClient.Opcode(answer.Value.Data));
        return RawTftpClient.Word(answer.Value.Data);
    }

    [Theory] // T1, T2, T3, T4
    [InlineData("../../../../etc/passwd")]
    [InlineData("../secret.txt")]
    [InlineData("..\\..\\etc\\passwd")]
    [InlineData("..\\secret.txt")]
    [InlineData("sub/..\\..\\secret.txt")]
    [InlineData("boot/..")]
    [InlineData("..")]
    [InlineData("/etc/passwd")]
    [InlineData("%2e%2e/secret.txt")]
    [InlineData("．．/secret.txt")]
    [InlineData("C:\\..\\secret.txt")]
    [InlineData("\\\\host\\share\\secret.txt")]
    public async Task Traversal_is_refused_and_the_next_client_served(string name)
    {
        var code = await RefusalCodeAsync(RawTftpClient.Rrq(name));
        Assert.Contains(code, new ushort[] { 1, 2 });
        await AssertNextClientIsServedAsync();
    }

    [Fact] // T1 logging
    public async Task Traversal_refusal_is_logged_in_plain_words()
    {
        await RefusalCodeAsync(RawTftpClient.Rrq("../../etc/passwd"));
        Assert.True(await Server.WaitForOutputAsync("refused RRQ from 127.0.0.1", Wait), Server.Output);
        Assert.True(await Server.WaitForOutputAsync("path '../../etc/passwd' leaves the boot root", Wait), Server.Output);
    }

    [Theory] // T2: legitimate Windows names must still be served
    [InlineData("\\Boot\\BCD")]
    [InlineData("/boot\\bcd")]
    [InlineData("prefix/bcd")] // user remap rule
    public async Task Windows_style_names_are_served(string name)
    {
        using var client = new RawTftpClient();
        var (content, _) = await client.DownloadAsync(Server.TftpEndPoint, name);
        Assert.Equal(HostileTftpFixture.Small, content);
    }

    [Theory] // T4: overlong UTF-8 dots and NUL inside the name
    [InlineData(new byte[] { 0xC0, 0xAE, 0xC0, 0xAE, (byte)'/', (byte)'s' })]
    [InlineData(new byte[] { (byte)'s', (byte)'m', 0xFF })]
    public async Task Invalid_utf8_names_are_refused(byte[] name)
    {
        Assert.Equal(1, await RefusalCodeAsync(RawTftpClient.Request(1, name, "octet")));
        await AssertNextClientIsServedAsync();
    }

    [Theory] // T5
    [InlineData("escape")]
    [InlineData("passwd")]
    public async Task Symlink_out_of_the_root_is_refused(string name)
    {
        Assert.Equal(2, await RefusalCodeAsync(RawTftpClient.Rrq(name)));
        Assert.True(await Server.WaitForOutputAsync("symbolic link to somewhere outside the boot root", Wait), Server.Output);
        await AssertNextClientIsServedAsync();
    }

    [Fact] // T6
    public async Task Long_name_and_long_mode_are_refused()
    {
        Assert.Equal(4, await RefusalCodeAsync(RawTftpClient.Request(1, new byte[600].Select(_ => (byte)'A').ToArray(), "octet")));
        Assert.Equal(4, await RefusalCodeAsync(RawTftpClient.Request(1, "small.bin"u8.ToArray(), new string('o', 300))));
        await AssertNextClientIsServedAsync();
    }

    [Fact] // T7: SolarWinds CVE-2010-2115's exact packet
    public async Task Name_of_one_control_byte_gets_file_not_found()
    {
        Assert.Equal(1, await RefusalCodeAsync([0, 1, 1, 0, .. "netascii"u8, 0]));
        await AssertNextClientIsServedAsync();
    }

    [Fact] // T8
    public async Task Format_strings_and_terminal_escapes_are_logged_inert()
    {
        Assert.Equal(1, await RefusalCodeAsync(RawTftpClient.Rrq("%n%s%x%n.bin")));
        Assert.Equal(1, await RefusalCodeAsync(RawTftpClient.Request(1, [0x1B, (byte)'[', (byte)'2', (byte)'J', (byte)'x'], "octet")));
        Assert.True(await Server.WaitForOutputAsync("'%n%s%x%n.bin'", Wait), Server.Output);
        Assert.DoesNotContain('\u001b', Server.Output);
        await AssertNextClientIsServedAsync();
    }

    [Fact] // T8: a client's ERROR text with CR/LF cannot forge a log line
    public async Task Client_error_text_cannot_forge_log_lines()
    {
        using var client = new RawTftpClient();
        client.Send(Server.TftpEndPoint, RawTftpClient.Rrq("small.bin"));
        var data = (await client.ReceiveAsync(Wait))!.Value;
        client.Send(data.From, [0, 5, 0, 0, .. "bye\r\nFORGED info: PxeKit.Tftp[1001] TFTP sent"u8, 0]);

        Assert.True(await Server.WaitForOutputAsync("client sent ERROR code 0 'bye??FORGED", Wait), Server.Output);
        Assert.DoesNotContain(Server.Output.Split('\n'), line => line.StartsWith("FORGED", StringComparison.Ordinal));
        await AssertNextClientIsServedAsync();
    }

    [Fact] // T9
    public async Task Unterminated_request_and_option_are_handled_inside_the_datagram()
    {
        Assert.Equal(4, await RefusalCodeAsync([0, 1, .. "small.bin"u8]));
        using var client = new RawTftpClient();
        client.Send(Server.TftpEndPoint, [0, 1, .. "small.bin"u8, 0, .. "octet"u8, 0, .. "blksize"u8, 0, .. "5555"u8]);
        var answer = (await client.ReceiveAsync(Wait))!.Value;
        Assert.Equal(3, RawTftpClient.Opcode(answer.Data)); // served with the default block size: the option was never complete
        Assert.Equal(4 + 512, answer.Data.Length);
        await AssertNextClientIsServedAsync();
    }

    [Theory] // T10
    [InlineData("blksize", "0", null)]
    [InlineData("blksize", "7", null)]
    [InlineData("blksize", "65465", "65464")]
    [InlineData("blksize", "99999999999", "65464")]
    [InlineData("blksize", "-1", null)]
    [InlineData("blksize", "abc", null)]
    [InlineData("timeout", "0", null)]
    [InlineData("timeout", "256", null)]
    [InlineData("windowsize", "0", null)]
    [InlineData("windowsize", "65536", "64")]
    public async Task Option_values_out_of_range_are_clamped_or_not_acknowledged(string option, string value, string? granted)
    {
        using var client = new RawTftpClient();
        client.Send(Server.TftpEndPoint, RawTftpClient.Rrq("small.bin", (option, value), ("tsize", "0")));
        var answer = (await client.ReceiveAsync(Wait))!.Value;

        Assert.Equal(6, RawTftpClient.Opcode(answer.Data));
        var oack = RawTftpClient.OackOptions(answer.Data);
        Assert.Equal("3000", oack["tsize"]);
        if (granted is null)
            Assert.False(oack.ContainsKey(option));
        else
            Assert.Equal(granted, oack[option]);
        client.Send(answer.From, [0, 5, 0, 8, 0]);
        await AssertNextClientIsServedAsync();
    }

    [Fact] // T10
    public async Task Repeated_option_is_acknowledged_once()
    {
        using var client = new RawTftpClient();
        client.Send(Server.TftpEndPoint, RawTftpClient.Rrq("small.bin", ("blksize", "1024"), ("blksize", "2048")));
        var answer = (await client.ReceiveAsync(Wait))!.Value;
        var text = Encoding.ASCII.GetString(answer.Data);
        Assert.Equal(1, text.Split("blksize").Length - 1);
        Assert.Equal("1024", RawTftpClient.OackOptions(answer.Data)["blksize"]);
        client.Send(answer.From, [0, 5, 0, 8, 0]);
    }

    [Fact] // T11
    public async Task Too_many_options_are_refused_with_error_8()
    {
        var options = Enumerable.Range(0, 20).Select(i => ($"opt{i}", "1")).ToArray();
        Assert.Equal(8, await RefusalCodeAsync(RawTftpClient.Rrq("small.bin", options)));
        await AssertNextClientIsServedAsync();
    }

    [Fact] // T12
    public async Task Request_padded_with_zeros_to_512_bytes_is_served()
    {
        var request = RawTftpClient.Rrq("small.bin");
        var padded = new byte[512];
        request.CopyTo(padded, 0);
        using var client = new RawTftpClient();
        client.Send(Server.TftpEndPoint, padded);
        var answer = (await client.ReceiveAsync(Wait))!.Value;
        Assert.Equal(3, RawTftpClient.Opcode(answer.Data));
        Assert.Equal(HostileTftpFixture.Small[..512], answer.Data[4..]);
    }

    [Theory] // T13, T14
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0 })]
    [InlineData(new byte[] { 0, 1, 0 })]
    [InlineData(new byte[] { 0, 5 })]
    [InlineData(new byte[] { 0, 0, 0, 0 })]
    [InlineData(new byte[] { 0, 7, 1, 2 })]
    [InlineData(new byte[] { 0xFF, 0xFF, 1, 2 })]
    [InlineData(new byte[] { 0, 4, 0, 1 })]
    [InlineData(new byte[] { 0, 3, 0, 1, 1, 2, 3 })]
    public async Task Junk_to_the_request_port_gets_no_answer(byte[] junk)
    {
        using var client = new RawTftpClient();
        client.Send(Server.TftpEndPoint, junk);
        // A 3-byte "RRQ" is a request too short to parse: it gets an ERROR; everything else gets silence.
        var answer = await client.ReceiveAsync(TimeSpan.FromMilliseconds(400));
        if (junk.Length >= 2 && junk[0] == 0 && junk[1] == 1)
            Assert.Equal(5, RawTftpClient.Opcode(answer!.Value.Data));
        else
            Assert.Null(answer);
        await AssertNextClientIsServedAsync();
    }

    [Theory] // T13: a 2-byte ERROR or a 22 KB ERROR to a transfer port ends that transfer, nothing else
    [InlineData(2)]
    [InlineData(22_000)]
    public async Task Odd_error_datagrams_end_the_transfer(int length)
    {
        using var client = new RawTftpClient();
        client.Send(Server.TftpEndPoint, RawTftpClient.Rrq("small.bin"));
        var data = (await client.ReceiveAsync(Wait))!.Value;
        var error = new byte[length];
        error[1] = 5;
        for (var i = 4; i < length; i++)
            error[i] = (byte)'E';
        client.Send(data.From, error);

        Assert.True(await Server.WaitForOutputAsync("ClientAborted", Wait), Server.Output);
        client.Send(data.From, RawTftpClient.Ack(1));
        Assert.Null(await client.ReceiveAsync(TimeSpan.FromMilliseconds(400)));
        await AssertNextClientIsServedAsync();
    }

    [Theory] // T15
    [InlineData("upload.bin")]
    [InlineData("../../WINDOWS\\system32\\x.exe")]
    [InlineData("small.bin")]
    public async Task Write_requests_are_refused(string name)
    {
        Assert.Equal(2, await RefusalCodeAsync(RawTftpClient.Request(2, Encoding.UTF8.GetBytes(name), "octet")));
        Assert.False(File.Exists(Path.Combine(Server.Root, "upload.bin")));
        Assert.Equal(HostileTftpFixture.Small, await File.ReadAllBytesAsync(Path.Combine(Server.Root, "small.bin")));
        await AssertNextClientIsServedAsync();
    }

    [Fact] // T19
    public async Task Spoofed_request_that_is_never_acknowledged_gets_at_most_three_packets()
    {
        using var client = new RawTftpClient();
        client.Send(Server.TftpEndPoint, RawTftpClient.Rrq("small.bin"));
        var packets = 0;
        while (await client.ReceiveAsync(TimeSpan.FromSeconds(2)) is not null)
            packets++;
        Assert.Equal(3, packets); // the first DATA and two retransmissions (0.3 s, 0.6 s)
        await AssertNextClientIsServedAsync();
    }

    [Fact] // T20
    public async Task Storm_of_unacknowledged_requests_is_capped_and_then_clients_are_served()
    {
        var clients = Enumerable.Range(0, 300).Select(_ => new RawTftpClient()).ToList();
        try
        {
            foreach (var client in clients)
                client.Send(Server.TftpEndPoint, RawTftpClient.Rrq("small.bin"));
            var answers = await Task.WhenAll(clients.Select(c => c.ReceiveAsync(Wait)));
            var busy = answers.Count(a => a is { } x && RawTftpClient.Opcode(x.Data) == 5);
            var served = answers.Count(a => a is { } x && RawTftpClient.Opcode(x.Data) == 3);
            Assert.Equal(40, served); // tftp.max-transfers
            Assert.Equal(260, busy);  // everyone else hears at once that the server is full
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
        Assert.True(await Server.WaitForOutputAsync("transfers in progress, the configured maximum", Wait), Server.Output);

        // The abandoned transfers time out (0.3 + 0.6 + 1.2 s) and free their slots.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            try
            {
                await AssertNextClientIsServedAsync();
                break;
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }
    }

    [Fact] // T23
    public async Task Netascii_request_gets_no_tsize()
    {
        using var client = new RawTftpClient();
        client.Send(Server.TftpEndPoint, RawTftpClient.Request(1, "small.bin"u8.ToArray(), "netascii", ("tsize", "0"), ("blksize", "1024")));
        var answer = (await client.ReceiveAsync(Wait))!.Value;
        Assert.Equal(6, RawTftpClient.Opcode(answer.Data));
        Assert.False(RawTftpClient.OackOptions(answer.Data).ContainsKey("tsize"));
        client.Send(answer.From, [0, 5, 0, 0, 0]);
    }

    [Fact] // T24
    public async Task Error_for_a_long_missing_name_is_bounded()
    {
        using var client = new RawTftpClient();
        client.Send(Server.TftpEndPoint, RawTftpClient.Rrq(new string('n', 500)));
        var answer = (await client.ReceiveAsync(Wait))!.Value;
        Assert.Equal(5, RawTftpClient.Opcode(answer.Data));
        Assert.True(answer.Data.Length <= 4 + 200 + 1);
        Assert.Equal(0, answer.Data[^1]);
    }

    [Fact] // T25
    public async Task Tsize_in_the_oack_is_the_real_size()
    {
        using var client = new RawTftpClient();
        client.Send(Server.TftpEndPoint, RawTftpClient.Rrq("small.bin", ("tsize", "12345")));
        var answer = (await client.ReceiveAsync(Wait))!.Value;
        Assert.Equal("3000", RawTftpClient.OackOptions(answer.Data)["tsize"]);
        client.Send(answer.From, [0, 5, 0, 8, 0]);
    }
}

/// <summary>Tests whose meaning depends on a retransmission timer that does not fire while they look (2 s).</summary>
public sealed class TftpTimingFixture : IAsyncLifetime
{
    public PxeKitProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Server = await PxeKitProcess.StartAsync("tftp:\n  retransmit-timeout: 2s\n",
            root => File.WriteAllBytes(Path.Combine(root, "f.bin"), PxeKitProcess.RandomBytes(10_000, 4)));

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class TftpTransferIdentityTests(TftpTimingFixture fixture) : IClassFixture<TftpTimingFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);

    [Fact] // T16
    public async Task Duplicate_acks_get_no_duplicate_data()
    {
        using var client = new RawTftpClient();
        client.Send(fixture.Server.TftpEndPoint, RawTftpClient.Rrq("f.bin"));
        var first = (await client.ReceiveAsync(Wait))!.Value;
        client.Send(first.From, RawTftpClient.Ack(1));
        Assert.Equal(2, RawTftpClient.Word((await client.ReceiveAsync(Wait))!.Value.Data));
        for (var i = 0; i < 3; i++)
            client.Send(first.From, RawTftpClient.Ack(1));
        Assert.Null(await client.ReceiveAsync(TimeSpan.FromMilliseconds(500)));
        client.Send(first.From, RawTftpClient.Ack(2));
        Assert.Equal(3, RawTftpClient.Word((await client.ReceiveAsync(Wait))!.Value.Data));
    }

    [Fact] // T17
    public async Task Stranger_gets_error_5_and_the_transfer_goes_on()
    {
        using var client = new RawTftpClient();
        using var stranger = new RawTftpClient();
        client.Send(fixture.Server.TftpEndPoint, RawTftpClient.Rrq("f.bin"));
        var first = (await client.ReceiveAsync(Wait))!.Value;
        stranger.Send(first.From, RawTftpClient.Ack(1));
        var error = (await stranger.ReceiveAsync(Wait))!.Value;
        Assert.Equal(5, RawTftpClient.Opcode(error.Data));
        Assert.Equal(5, RawTftpClient.Word(error.Data));
        Assert.Null(await client.ReceiveAsync(TimeSpan.FromMilliseconds(300)));
        client.Send(first.From, RawTftpClient.Ack(1));
        Assert.Equal(2, RawTftpClient.Word((await client.ReceiveAsync(Wait))!.Value.Data));
    }

    [Fact] // T21
    public async Task Retransmitted_request_does_not_start_a_second_transfer()
    {
        using var client = new RawTftpClient();
        client.Send(fixture.Server.TftpEndPoint, RawTftpClient.Rrq("f.bin"));
        client.Send(fixture.Server.TftpEndPoint, RawTftpClient.Rrq("f.bin"));
        var first = (await client.ReceiveAsync(Wait))!.Value;
        Assert.Equal(1, RawTftpClient.Word(first.Data));
        Assert.Null(await client.ReceiveAsync(TimeSpan.FromMilliseconds(500)));
    }
}

/// <summary>T18: a file over 4 GiB (sparse, with markers past 2³²) crosses several block-number wraps intact.</summary>
public sealed class TftpLargeFileTests
{
    [Fact]
    public async Task File_over_4_GiB_arrives_with_the_same_sha256()
    {
        const long length = (4L << 30) + 777_777;
        var markers = new[] { 0L, (1L << 32) - 5, 1L << 32, length - 100 };
        await using var server = await PxeKitProcess.StartAsync("tftp:\n  max-window-size: 64\n", root =>
        {
            using var file = new FileStream(Path.Combine(root, "huge.img"), FileMode.CreateNew);
            file.SetLength(length);
            foreach (var offset in markers)
            {
                file.Position = offset;
                file.Write(Encoding.ASCII.GetBytes($"MARK@{offset:x}"));
            }
        });
        var expected = await HashFileAsync(Path.Combine(server.Root, "huge.img"));

        using var client = new RawTftpClient();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var received = await client.DownloadHashingAsync(server.TftpEndPoint, "huge.img", 16_384, 64, hash, TimeSpan.FromMinutes(4));

        Assert.Equal(length, received);
        Assert.Equal(expected, hash.GetHashAndReset());
        Assert.True(await server.WaitForOutputAsync($"TFTP sent huge.img to 127.0.0.1", TimeSpan.FromSeconds(5)), server.Output);
    }

    private static async Task<byte[]> HashFileAsync(string path)
    {
        await using var stream = File.OpenRead(path);
        return await SHA256.HashDataAsync(stream);
    }
}
