using PxeKit.Server.Options;

namespace PxeKit.Tests.Server.Options;

public class ScriptsConfigTests
{
    [Fact]
    public void Every_script_key_is_read()
    {
        var options = ConfigFile.Parse("""
            scripts:
              - extension: PS1
                program: /bin/sh
                args: ["-NoProfile", "-File", "{file}"]
              - path: /provision
                program: /bin/sh
                args: []
                timeout: 2500ms
                max-output: 64KiB
                max-concurrent: 2
                content-type: text/x-ipxe
            """);

        Assert.Equal(2, options.Scripts.Count);
        var byExtension = options.Scripts[0];
        Assert.Equal(".ps1", byExtension.Extension);
        Assert.Null(byExtension.Path);
        Assert.Equal("/bin/sh", byExtension.Program);
        Assert.Equal(["-NoProfile", "-File", "{file}"], byExtension.Arguments);
        Assert.Equal(TimeSpan.FromSeconds(10), byExtension.Timeout);
        Assert.Equal(1 << 20, byExtension.MaxOutput);
        Assert.Equal(4, byExtension.MaxConcurrent);
        Assert.Equal("text/plain; charset=utf-8", byExtension.ContentType);
        Assert.Equal(2, byExtension.Line);

        var byPath = options.Scripts[1];
        Assert.Equal("/provision", byPath.Path);
        Assert.Empty(byPath.Arguments);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), byPath.Timeout);
        Assert.Equal(64 * 1024, byPath.MaxOutput);
        Assert.Equal(2, byPath.MaxConcurrent);
        Assert.Equal("text/x-ipxe", byPath.ContentType);
    }

    [Fact]
    public void A_program_that_is_not_executable_is_refused_at_load()
    {
        var file = Path.GetTempFileName();
        try
        {
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var error = Assert.Throws<ConfigurationException>(() => ConfigFile.Parse($"scripts:\n  - extension: .sh\n    program: {file}\n"));
            Assert.Equal($"pxekit.yaml line 3: 'scripts[].program' of .sh: '{file}' is not executable (chmod +x it, or name its interpreter as 'program' and the file in 'args')", error.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("1MiB", 1L << 20)]
    [InlineData("512 KiB", 512L << 10)]
    [InlineData("2MB", 2_000_000L)]
    [InlineData("65536", 65536L)]
    [InlineData("100B", 100L)]
    public void Max_output_takes_sizes_in_bytes_and_units(string text, long expected)
    {
        var options = ConfigFile.Parse($"scripts:\n  - path: /x\n    program: /bin/sh\n    max-output: {text}\n");
        Assert.Equal(expected, Assert.Single(options.Scripts).MaxOutput);
    }

    [Theory]
    [InlineData("scripts:\n  extension: .ps1\n", "pxekit.yaml line 2: 'scripts' must be a list of entries")]
    [InlineData("scripts:\n  - program: /bin/sh\n", "pxekit.yaml line 2: each 'scripts' entry needs exactly one of 'extension'")]
    [InlineData("scripts:\n  - extension: .sh\n    path: /x\n    program: /bin/sh\n", "pxekit.yaml line 2: each 'scripts' entry needs exactly one of 'extension'")]
    [InlineData("scripts:\n  - extension: .sh\n", "pxekit.yaml line 2: the 'scripts' entry for .sh needs 'program'")]
    [InlineData("scripts:\n  - extension: .sh\n    program: sh\n", "pxekit.yaml line 3: 'scripts[].program' of .sh: 'sh' must be an absolute path (it is run directly, without a shell or PATH search)")]
    [InlineData("scripts:\n  - extension: .sh\n    program: /nonexistent/pwsh\n", "pxekit.yaml line 3: 'scripts[].program' of .sh: '/nonexistent/pwsh' does not exist")]
    [InlineData("scripts:\n  - extension: .sh\n    program: /usr/bin\n", "pxekit.yaml line 3: 'scripts[].program' of .sh: '/usr/bin' is a directory")]
    [InlineData("scripts:\n  - path: /x\n    program: /bin/sh\n    args: [\"{file}\"]\n", "pxekit.yaml line 4: 'scripts[].args' of /x: {file} names the requested script file, and a 'path' entry has none")]
    [InlineData("scripts:\n  - path: /x\n    program: /bin/sh\n    args: -NoProfile -File x\n", "pxekit.yaml line 4: 'scripts[].args' must be a list with one argument per item")]
    [InlineData("scripts:\n  - extension: '*.ps1'\n    program: /bin/sh\n", "pxekit.yaml line 2: 'scripts[].extension' must be a file extension such as .ps1")]
    [InlineData("scripts:\n  - path: provision\n    program: /bin/sh\n", "pxekit.yaml line 2: 'scripts[].path' must be a URL path such as /provision")]
    [InlineData("scripts:\n  - path: /a/../b\n    program: /bin/sh\n", "pxekit.yaml line 2: 'scripts[].path' must be a URL path")]
    [InlineData("scripts:\n  - path: /{x}\n    program: /bin/sh\n", "pxekit.yaml line 2: 'scripts[].path' must be a URL path")]
    [InlineData("scripts:\n  - path: /x\n    program: /bin/sh\n    timeout: forever\n", "pxekit.yaml line 4: 'scripts[].timeout' must be a duration")]
    [InlineData("scripts:\n  - path: /x\n    program: /bin/sh\n    max-output: lots\n", "pxekit.yaml line 4: 'scripts[].max-output' must be a size such as 1MiB")]
    [InlineData("scripts:\n  - path: /x\n    program: /bin/sh\n    max-output: 1GiB\n", "pxekit.yaml line 4: 'scripts[].max-output' must be between 1 bytes and 64 MiB")]
    [InlineData("scripts:\n  - path: /x\n    program: /bin/sh\n    max-concurrent: 0\n", "pxekit.yaml line 4: 'scripts[].max-concurrent' must be between 1 and 1024")]
    [InlineData("scripts:\n  - path: /x\n    program: /bin/sh\n    content-type: 'not a type'\n", "pxekit.yaml line 4: 'scripts[].content-type' must be a media type")]
    [InlineData("scripts:\n  - path: /x\n    program: /bin/sh\n    interpreter: /bin/sh\n", "pxekit.yaml line 4: unknown key 'scripts[].interpreter'")]
    [InlineData("scripts:\n  - extension: .sh\n    program: /bin/sh\n  - extension: SH\n    program: /bin/sh\n", "pxekit.yaml line 4: 'scripts' has two entries for .sh")]
    public void Script_mistakes_name_the_key_and_line(string yaml, string expectedStart)
    {
        var error = Assert.Throws<ConfigurationException>(() => ConfigFile.Parse(yaml));
        Assert.StartsWith(expectedStart, error.Message, StringComparison.Ordinal);
    }
}
