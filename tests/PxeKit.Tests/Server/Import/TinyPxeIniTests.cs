using System.Text;
using PxeKit.Server.Import;

namespace PxeKit.Tests.Server.Import;

/// <summary>Reading config.ini the way Windows' profile functions do, and refusing what is not one.</summary>
public class TinyPxeIniTests
{
    private static TinyPxeIni Parse(string text) => TinyPxeIni.Parse(Encoding.UTF8.GetBytes(text));

    [Fact]
    public void Sections_and_keys_ignore_case_and_comments_spaces_bom_and_crlf()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes(
            "; comment\r\n# another\r\n[DHCP]\r\n  FileName = undionly.kpxe  \r\n\r\nroot=\"C:\\pxe files\"\r\nopt67=a ;not a comment\r\n")).ToArray();
        var ini = TinyPxeIni.Parse(bytes);
        Assert.Equal("undionly.kpxe", ini.Get("dhcp", "filename")!.Value);
        Assert.Equal(4, ini.Get("dhcp", "filename")!.Line);
        Assert.Equal(@"C:\pxe files", ini.Get("Dhcp", "ROOT")!.Value);
        Assert.Equal("a ;not a comment", ini.Get("dhcp", "opt67")!.Value);
        Assert.Empty(ini.Warnings);
    }

    [Fact]
    public void Utf16_with_bom_and_latin1_without_are_read()
    {
        var utf16 = new byte[] { 0xFF, 0xFE }.Concat(Encoding.Unicode.GetBytes("[dhcp]\r\nroot=Fichiers é\r\n")).ToArray();
        Assert.Equal("Fichiers é", TinyPxeIni.Parse(utf16).Get("dhcp", "root")!.Value);
        var latin1 = Encoding.Latin1.GetBytes("[dhcp]\nroot=Fichiers é\n");
        Assert.Equal("Fichiers é", TinyPxeIni.Parse(latin1).Get("dhcp", "root")!.Value);
    }

    [Fact]
    public void Windows_1252_dashes_quotes_and_ellipsis_written_by_pxesrv_are_read_as_such()
    {
        // "Windows 10 – Setup’s menu…" as pxesrv.exe writes it on a Western Windows: 0x96, 0x92, 0x85 (Latin-1 would
        // make them the C1 controls U+0096, U+0092, U+0085 and refuse the file), and the euro sign 0x80.
        var bytes = Encoding.ASCII.GetBytes("[dhcp]\r\ntitle=Windows 10 _ Setup_s menu_ _5\r\n").ToArray();
        var underscores = new Queue<byte>([0x96, 0x92, 0x85, 0x80]);
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'_')
                bytes[i] = underscores.Dequeue();
        }

        Assert.Equal("Windows 10 \u2013 Setup\u2019s menu\u2026 \u20AC5", TinyPxeIni.Parse(bytes).Get("dhcp", "title")!.Value);
    }

    [Theory]
    [InlineData(0x81)]
    [InlineData(0x8D)]
    [InlineData(0x8F)]
    [InlineData(0x90)]
    [InlineData(0x9D)]
    public void Bytes_windows_1252_leaves_undefined_are_still_refused(byte undefined)
    {
        byte[] bytes = [.. "[dhcp]\ntitle=a"u8, undefined, .. "\n"u8];
        var e = Assert.Throws<TinyPxeIniException>(() => TinyPxeIni.Parse(bytes));
        Assert.Equal($"config.ini line 2 contains the control character U+00{undefined:X2}: this is not a text config.ini.", e.Message);
    }

    [Fact]
    public void Line_without_equals_and_keys_before_a_section_are_skipped_with_a_warning()
    {
        var ini = Parse("orphan=1\n[dhcp]\nthis line has no equals sign\nfilename=x\n[broken\n");
        Assert.Equal("x", ini.Get("dhcp", "filename")!.Value);
        Assert.Equal(3, ini.Warnings.Count);
        Assert.StartsWith("line 1: 'orphan=1' comes before any [section]", ini.Warnings[0], StringComparison.Ordinal);
        Assert.StartsWith("line 3: 'this line has no equals sign' is not key=value", ini.Warnings[1], StringComparison.Ordinal);
        Assert.StartsWith("line 5: '[broken' opens a section", ini.Warnings[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Binary_garbage_is_refused_with_one_sentence()
    {
        var garbage = new byte[4096];
        new Random(5).NextBytes(garbage);
        var e = Assert.Throws<TinyPxeIniException>(() => TinyPxeIni.Parse(garbage));
        Assert.Matches(@"^config\.ini line \d+ contains the control character U\+[0-9A-F]{4}: this is not a text config\.ini\.$", e.Message);
    }

    [Fact]
    public void Over_long_line_is_refused()
    {
        var e = Assert.Throws<TinyPxeIniException>(() => Parse("[dhcp]\nfilename=" + new string('a', 5000) + "\n"));
        Assert.Equal("config.ini line 2 is 5009 characters long, more than the 4096 a config.ini line can be.", e.Message);
    }

    [Fact]
    public void File_over_one_mebibyte_is_refused_before_it_is_read()
    {
        var path = Path.GetTempFileName();
        try
        {
            using (var stream = File.OpenWrite(path))
                stream.SetLength(TinyPxeIni.MaxFileBytes + 1);
            var e = Assert.Throws<TinyPxeIniException>(() => TinyPxeIni.Load(path));
            Assert.Equal($"{path} is 1048577 bytes, larger than the 1048576 bytes a config.ini can be (the stock one is about 2 KB).", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Text_without_any_section_is_not_a_config_ini()
    {
        var e = Assert.Throws<TinyPxeIniException>(() => Parse("just some text\nwith lines\n"));
        Assert.Equal("config.ini has no [section]: a Tiny PXE Server config.ini has at least [dhcp].", e.Message);
    }

    [Fact]
    public void Missing_file_is_one_sentence()
    {
        var e = Assert.Throws<TinyPxeIniException>(() => TinyPxeIni.Load("/nonexistent/config.ini"));
        Assert.StartsWith("cannot read /nonexistent/config.ini: ", e.Message, StringComparison.Ordinal);
    }
}
