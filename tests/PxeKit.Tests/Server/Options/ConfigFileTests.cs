using System.Net;
using Microsoft.Extensions.Logging;
using PxeKit.Server.Options;

namespace PxeKit.Tests.Server.Options;

public class ConfigFileTests
{
    [Fact]
    public void Empty_file_gives_the_defaults()
    {
        var options = ConfigFile.Parse("");
        Assert.Equal("boot", options.Root);
        Assert.Equal(69, options.Tftp.Port);
        Assert.Equal(8080, options.Http.Port);
        Assert.Equal([IPAddress.Any], options.Listen);
    }

    [Fact]
    public void Every_documented_key_is_read()
    {
        var options = ConfigFile.Parse("""
            root: /srv/boot
            data-dir: /var/lib/pxekit
            listen: [192.0.2.1, 198.51.100.1]
            log-level: debug
            tftp:
              enabled: true
              port: 6969
              case-insensitive: false
              max-transfers: 100
              max-block-size: 1468
              max-window-size: 32
              retransmit-timeout: 500ms
              max-retries: 7
              remap:
                - match: '^pxelinux\.cfg\\'
                  replace: 'pxelinux.cfg/'
            http:
              enabled: no
              port: 80
              max-connections: 200
            ipxe:
              install-binaries: false
              source-dir: /opt/ipxe
              write-default-script: off
            """);

        Assert.Equal("/srv/boot", options.Root);
        Assert.Equal("/var/lib/pxekit", options.DataDirectory);
        Assert.Equal([IPAddress.Parse("192.0.2.1"), IPAddress.Parse("198.51.100.1")], options.Listen);
        Assert.Equal(LogLevel.Debug, options.LogLevel);
        Assert.Equal(6969, options.Tftp.Port);
        Assert.False(options.Tftp.CaseInsensitive);
        Assert.Equal(100, options.Tftp.Server.MaxTransfers);
        Assert.Equal(1468, options.Tftp.Server.MaxBlockSize);
        Assert.Equal(32, options.Tftp.Server.MaxWindowSize);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.Tftp.Server.RetransmitTimeout);
        Assert.Equal(7, options.Tftp.Server.MaxRetries);
        Assert.Equal("^pxelinux\\.cfg\\\\", Assert.Single(options.Tftp.Remap).Match);
        Assert.False(options.Http.Enabled);
        Assert.Equal(80, options.Http.Port);
        Assert.Equal(200, options.Http.MaxConnections);
        Assert.False(options.Ipxe.InstallBinaries);
        Assert.Equal("/opt/ipxe", options.Ipxe.SourceDirectory);
        Assert.False(options.Ipxe.WriteDefaultScript);
    }

    [Theory]
    [InlineData("root: ./boot\ntftp:\n  blocksize: 1468\n", "pxekit.yaml line 3: unknown key 'tftp.blocksize'")]
    [InlineData("rot: ./boot\n", "pxekit.yaml line 1: unknown key 'rot'")]
    [InlineData("tftp:\n  port: sixty-nine\n", "pxekit.yaml line 2: 'tftp.port' must be a whole number, not 'sixty-nine'")]
    [InlineData("tftp:\n  port: 70000\n", "pxekit.yaml line 2: 'tftp.port' must be between 1 and 65535, not 70000")]
    [InlineData("http:\n  enabled: maybe\n", "pxekit.yaml line 2: 'http.enabled' must be true or false, not 'maybe'")]
    [InlineData("listen: [192.0.2.1, eth0]\n", "pxekit.yaml line 1: 'listen' must list IP addresses, and 'eth0' is not one")]
    [InlineData("tftp: 5\n", "pxekit.yaml line 1: 'tftp' must be a mapping of keys")]
    [InlineData("tftp:\n  remap:\n    - match: '(['\n      replace: x\n", "pxekit.yaml line 3: 'tftp.remap' rule '([' is not a valid regular expression")]
    [InlineData("tftp:\n  remap:\n    - match: a\n", "pxekit.yaml line 3: each 'tftp.remap' rule needs both")]
    [InlineData("tftp:\n  retransmit-timeout: 10ms\n", "pxekit.yaml line 2: 'tftp.retransmit-timeout' must be between")]
    [InlineData("log-level: loud\n", "pxekit.yaml line 1: 'log-level' must be one of")]
    [InlineData("root: [\n", "pxekit.yaml line")]
    public void Mistakes_name_the_key_and_line(string yaml, string expectedStart)
    {
        var error = Assert.Throws<ConfigurationException>(() => ConfigFile.Parse(yaml));
        Assert.StartsWith(expectedStart, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_key_is_an_error_with_its_line()
    {
        var error = Assert.Throws<ConfigurationException>(() => ConfigFile.Parse("root: a\nroot: b\n"));
        Assert.StartsWith("pxekit.yaml line 2", error.Message, StringComparison.Ordinal);
    }
}

public class GeneratedBcdConfigTests
{
    [Fact]
    public void Bcd_stores_are_read_with_their_recipe_options()
    {
        var options = ConfigFile.Parse("""
            bcd:
              - path: boot/bcd
                recipe: winpe
                wim: \sources\boot.wim
                sdi: \boot\boot.sdi
              - path: efi/microsoft/boot/bcd
                recipe: winpe
                uefi: true
              - path: images/bcd
                recipe: vhd
                vhd: \images\win10.vhd
            """);

        Assert.Equal(3, options.Bcd.Count);
        Assert.Equal(@"\sources\boot.wim", options.Bcd[0].Wim);
        Assert.True(options.Bcd[1].Uefi);
        Assert.Equal(@"\images\win10.vhd", options.Bcd[2].Vhd);
        Assert.Equal(2, options.Bcd[0].Line);
    }

    [Theory]
    [InlineData("bcd:\n  - path: boot/bcd\n    recipe: winxp\n", "pxekit.yaml line 3: 'bcd[].recipe' must be one of winpe, windows, vhd")]
    [InlineData("bcd:\n  - recipe: winpe\n", "pxekit.yaml line 2: each 'bcd' store needs 'path'")]
    [InlineData("bcd:\n  - path: b\n    recipe: vhd\n", "pxekit.yaml line 2: the 'bcd' store at 'b' uses the vhd recipe and needs 'vhd'")]
    [InlineData("bcd:\n  - path: ../bcd\n    recipe: winpe\n", "pxekit.yaml line 2: 'bcd[].path' '../bcd' must stay inside the boot root")]
    [InlineData("bcd:\n  - path: b\n    recipe: windows\n    device: partition\n", "pxekit.yaml line 4: 'bcd[].device' must be one of boot, locate, locate-path")]
    public void Bcd_mistakes_name_the_key_and_line(string yaml, string expected)
    {
        var error = Assert.Throws<ConfigurationException>(() => ConfigFile.Parse(yaml));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }
}
