using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PxeKit.EndToEnd.Infrastructure;

/// <summary>One HTTP/1.1 response as it came off the wire: status, headers in order, and the body bytes.</summary>
public sealed record RawHttpResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body, byte[] Wire)
{
    public string? Header(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

    public bool HasHeader(string name) => Header(name) is not null;

    /// <summary>Everything received, as Latin-1 so that any byte shows; for assertions that something never appears.</summary>
    public string WireText => Encoding.Latin1.GetString(Wire);

    public string Describe() => WireText.Length > 2000 ? WireText[..2000] + "…" : WireText;
}

/// <summary>
/// Sends exactly the request bytes a test writes, over a plain TCP connection. HttpClient and curl normalise the
/// request target (dot segments, backslashes, percent-encoding), which is the very thing hostile-input tests must
/// not have done for them.
/// </summary>
public static class RawHttp
{
    /// <summary>Sends <paramref name="request"/> and reads until the server closes or <paramref name="timeout"/>
    /// passes; requests should carry <c>Connection: close</c> so that the server ends the exchange.</summary>
    public static async Task<byte[]> ExchangeAsync(int port, byte[] request, TimeSpan timeout)
    {
        using var client = new TcpClient();
        using var cts = new CancellationTokenSource(timeout);
        await client.ConnectAsync(IPAddress.Loopback, port, cts.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(request, cts.Token);
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cts.Token)) > 0)
                received.Write(buffer, 0, read);
        }
        catch (OperationCanceledException)
        {
            // The time limit is the answer for a server that keeps the connection open; the caller sees what came.
        }
        catch (IOException)
        {
            // A reset after the answer is a close as far as these tests are concerned.
        }
        return received.ToArray();
    }

    /// <summary>Sends a request whose target and headers are written verbatim, and parses the first response.</summary>
    public static async Task<RawHttpResponse> SendAsync(int port, string method, string target, TimeSpan? timeout = null,
        params string[] headers)
    {
        var text = new StringBuilder();
        text.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        foreach (var header in headers)
            text.Append(header).Append("\r\n");
        text.Append("Connection: close\r\n\r\n");
        var wire = await ExchangeAsync(port, Encoding.Latin1.GetBytes(text.ToString()), timeout ?? TimeSpan.FromSeconds(10));
        return Parse(wire);
    }

    /// <summary>The first response in <paramref name="wire"/>; its body is whatever follows the header block (the
    /// connection was closed), so a HEAD that leaked a body, or a second response, shows in it.</summary>
    public static RawHttpResponse Parse(byte[] wire)
    {
        var end = wire.AsSpan().IndexOf("\r\n\r\n"u8);
        if (end < 0)
            throw new InvalidDataException($"no complete response header in {wire.Length} bytes: '{Encoding.Latin1.GetString(wire)}'");
        var lines = Encoding.Latin1.GetString(wire, 0, end).Split("\r\n");
        var statusParts = lines[0].Split(' ', 3);
        if (statusParts.Length < 2 || !statusParts[0].StartsWith("HTTP/", StringComparison.Ordinal))
            throw new InvalidDataException($"not a status line: '{lines[0]}'");
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers.Add(new(line[..colon], line[(colon + 1)..].Trim()));
        }
        var body = wire[(end + 4)..];
        return new RawHttpResponse(int.Parse(statusParts[1], System.Globalization.CultureInfo.InvariantCulture), headers, body, wire);
    }

    /// <summary>Every response in <paramref name="wire"/>, each body cut at its Content-Length (pipelined requests).</summary>
    public static IReadOnlyList<RawHttpResponse> ParseSequence(byte[] wire)
    {
        var responses = new List<RawHttpResponse>();
        var rest = wire;
        while (rest.Length > 0)
        {
            var parsed = Parse(rest);
            var headerLength = rest.Length - parsed.Body.Length;
            var bodyLength = int.Parse(parsed.Header("Content-Length") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
            responses.Add(parsed with { Body = parsed.Body[..bodyLength], Wire = rest[..(headerLength + bodyLength)] });
            rest = rest[(headerLength + bodyLength)..];
        }
        return responses;
    }
}
