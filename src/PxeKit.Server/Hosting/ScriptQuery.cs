using System.Text;

using PxeKit.Server.Boot;

namespace PxeKit.Server.Hosting;

/// <summary>One query parameter of a script request, decoded.</summary>
/// <param name="Name">"mac" of "mac=aa:bb...", or null for a bare parameter ("?aa-bb-cc-dd-ee-ff").</param>
/// <param name="Argument">What the program gets: "name=value", or the bare value.</param>
internal sealed record ScriptParameter(string? Name, string Value, string Argument);

/// <summary>
/// Turns the query of a script request into the program's arguments, the way Tiny PXE Server passed
/// <c>?param1=value1</c> to <c>php.exe file.php param1=value1</c>, with the checks that a hostile query needs:
/// everything a client sends is refused unless it is small, valid UTF-8 and free of control characters. Values are
/// only ever arguments and environment values of a program started without a shell, so shell metacharacters are
/// inert and are passed as they are.
/// </summary>
internal static class ScriptQuery
{
    /// <summary>Most parameters a request may carry: iPXE scripts pass a handful (${mac}, ${uuid}, ${buildarch}...).</summary>
    public const int MaxParameters = 32;

    /// <summary>Longest decoded parameter ("name=value"), in UTF-8 bytes.</summary>
    public const int MaxParameterBytes = 1024;

    /// <summary>Splits <paramref name="rawQuery"/> ("?a=1&amp;b", with or without the '?') into parameters in order,
    /// or says why not. '&amp;' separates parameters, '+' is a space and %XX a byte (HTML form encoding, as PHP and
    /// Python decode it); empty parameters ("a=1&amp;&amp;b=2") are skipped.</summary>
    public static bool TryParse(string? rawQuery, out List<ScriptParameter> parameters, out string? refusal)
    {
        parameters = [];
        refusal = null;
        var query = (rawQuery ?? "").AsSpan();
        if (query.StartsWith("?"))
            query = query[1..];
        foreach (var range in query.Split('&'))
        {
            var part = query[range];
            if (part.IsEmpty)
                continue;
            if (parameters.Count == MaxParameters)
            {
                refusal = $"more than {MaxParameters} query parameters";
                return false;
            }
            var equals = part.IndexOf('=');
            var nameText = equals < 0 ? null : Decode(part[..equals], out refusal);
            if (equals >= 0 && nameText is null)
                return false;
            var value = Decode(equals < 0 ? part : part[(equals + 1)..], out refusal);
            if (value is null)
                return false;
            var argument = nameText is null ? value : nameText + "=" + value;
            if (Encoding.UTF8.GetByteCount(argument) > MaxParameterBytes)
            {
                refusal = $"query parameter {parameters.Count + 1} is longer than {MaxParameterBytes} bytes";
                return false;
            }
            if (argument.StartsWith('-'))
            {
                // The program would read it as an option of its own ("-Command ...", "--eval=..."), not as data.
                refusal = $"query parameter {parameters.Count + 1} starts with '-' (it would be taken as an option of the program)";
                return false;
            }
            parameters.Add(new ScriptParameter(nameText, value, argument));
        }
        return true;
    }

    /// <summary>Form-decodes one name or value; null with a reason for malformed escapes, invalid UTF-8 or a control
    /// character (a CR/LF in a value would forge lines of the iPXE script a program echoes it into).</summary>
    private static string? Decode(ReadOnlySpan<char> text, out string? refusal)
    {
        refusal = null;
        if (text.Length > 3 * MaxParameterBytes)
        {
            refusal = $"a query parameter is longer than {MaxParameterBytes} bytes";
            return null;
        }
        Span<byte> bytes = stackalloc byte[text.Length];
        var length = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '+')
            {
                bytes[length++] = (byte)' ';
            }
            else if (c == '%')
            {
                if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
                {
                    refusal = "a '%' in the query is not followed by two hexadecimal digits";
                    return null;
                }
                bytes[length++] = (byte)((HexValue(text[i + 1]) << 4) | HexValue(text[i + 2]));
                i += 2;
            }
            else if (char.IsAscii(c) && !char.IsControl(c))
            {
                bytes[length++] = (byte)c;
            }
            else
            {
                refusal = $"the query holds character U+{(int)c:X4} that is not percent-encoded";
                return null;
            }
        }

        string decoded;
        try
        {
            decoded = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes[..length]);
        }
        catch (DecoderFallbackException)
        {
            refusal = "a query parameter is not valid UTF-8";
            return null;
        }
        foreach (var d in decoded)
        {
            if (char.IsControl(d))
            {
                refusal = $"a query parameter contains control character U+{(int)d:X4}";
                return null;
            }
        }
        return decoded;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    /// <summary>The client's MAC from the query: the <c>mac</c> parameter when it is one, else the first bare
    /// parameter that is one (<c>?aa-bb-cc-dd-ee-ff</c>, the seed's <c>@mac</c>), else null.</summary>
    public static string? FindMac(IReadOnlyList<ScriptParameter> parameters)
    {
        foreach (var parameter in parameters)
        {
            if (string.Equals(parameter.Name, "mac", StringComparison.OrdinalIgnoreCase) && TryParseMac(parameter.Value, out var mac))
                return mac;
        }
        foreach (var parameter in parameters)
        {
            if (parameter.Name is null && TryParseMac(parameter.Value, out var mac))
                return mac;
        }
        return null;
    }

    /// <summary>An Ethernet MAC (six bytes) in any spelling <see cref="MacAddress.TryNormalize"/> reads, as
    /// lower-case colon form: a bare parameter must look exactly like one to be taken as the client's MAC.</summary>
    public static bool TryParseMac(string text, out string mac) =>
        MacAddress.TryNormalize(text, out mac) && mac.Length == 17;

    /// <summary>"aa-bb-cc-dd-ee-ff", the spelling of iPXE's <c>${mac:hexhyp}</c> and Windows file names.</summary>
    public static string Hyphenated(string mac) => MacAddress.Hyphenated(mac);
}
