using System.Globalization;
using System.Text;

namespace PxeKit.Server.Logging;

/// <summary>Text a client (or a program it runs) chose, made safe for a log line or a trace.</summary>
public static class ClientText
{
    /// <summary>
    /// Control characters escaped as <c>\u000A</c> (a CR or LF written raw would end our line and forge the next one;
    /// an ESC would drive the terminal of the sysadmin reading it), cut to <paramref name="maxLength"/> characters.
    /// Everything else stays as the client sent it.
    /// </summary>
    public static string Printable(string text, int maxLength = int.MaxValue)
    {
        var clipped = text.Length > maxLength ? text[..maxLength] : text;
        var span = clipped.AsSpan();
        if (!span.ContainsAnyInRange('\0', '\u001F') && !span.ContainsAnyInRange('\u007F', '\u009F'))
            return clipped;
        var escaped = new StringBuilder(clipped.Length + 16);
        foreach (var c in clipped)
        {
            if (char.IsControl(c))
                escaped.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            else
                escaped.Append(c);
        }
        return escaped.ToString();
    }
}
