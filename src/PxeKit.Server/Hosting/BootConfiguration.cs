using System.Net;
using PxeKit.Formats.Bcd;
using PxeKit.Server.Boot;
using PxeKit.Server.Options;

namespace PxeKit.Server.Hosting;

/// <summary>
/// One generation of the configuration as every request sees it: options, the boot file system and the boot
/// policy. A request reads <see cref="LiveBootConfiguration.Current"/> once and uses that generation to the end, so
/// a reload never changes the rules under a request or a transfer in flight.
/// </summary>
public sealed class BootConfiguration
{
    private BootConfiguration(PxeKitOptions options, BootFileSystem files, BootPolicy? policy)
    {
        Options = options;
        Files = files;
        Policy = policy;
        DhcpPolicy = new DhcpBootPolicy(options.Dhcp.Boot);
        if (policy is not null)
        {
            Ipxe = new IpxeScriptRenderer(policy);
            Pxelinux = new PxelinuxConfigRenderer(policy);
            Templates = [.. policy.Definition.Templates.Select(PathGlob)];
        }
    }

    public PxeKitOptions Options { get; }

    public BootFileSystem Files { get; }

    /// <summary>Null when pxekit.yaml has no <c>boot:</c> section: the root's own files are served as they are.</summary>
    public BootPolicy? Policy { get; }

    /// <summary>Which boot file DHCP hands each architecture (<c>dhcp.boot-files</c>, <c>dhcp.ipxe-script</c>).</summary>
    public DhcpBootPolicy DhcpPolicy { get; }

    public IpxeScriptRenderer? Ipxe { get; }

    public PxelinuxConfigRenderer? Pxelinux { get; }

    /// <summary>Files rendered as templates when served (<c>boot.templates</c>).</summary>
    public IReadOnlyList<System.Text.RegularExpressions.Regex> Templates { get; } = [];

    /// <summary>The root path of the per-client iPXE script (what DHCP hands iPXE), e.g. "boot.ipxe".</summary>
    public string ScriptPath => Options.Dhcp.Boot.IpxeScript.TrimStart('/');

    /// <summary>A path glob over names in the root: <c>*</c> and <c>?</c> stay within one folder, <c>**</c> crosses
    /// folders (<c>preseed/**.cfg</c>); letter case is ignored, as clients' names are.</summary>
    public static System.Text.RegularExpressions.Regex PathGlob(string pattern)
    {
        var regex = new System.Text.StringBuilder("^");
        var trimmed = pattern.Replace('\\', '/').TrimStart('/');
        for (var i = 0; i < trimmed.Length; i++)
        {
            var c = trimmed[i];
            if (c == '*' && i + 1 < trimmed.Length && trimmed[i + 1] == '*')
            {
                regex.Append(".*");
                i++;
            }
            else if (c == '*')
            {
                regex.Append("[^/]*");
            }
            else if (c == '?')
            {
                regex.Append("[^/]");
            }
            else
            {
                regex.Append(System.Text.RegularExpressions.Regex.Escape(c.ToString()));
            }
        }
        return new System.Text.RegularExpressions.Regex(regex.Append('$').ToString(),
            System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
    }

    public bool IsTemplate(string mappedName)
    {
        foreach (var template in Templates)
        {
            if (template.IsMatch(mappedName))
                return true;
        }
        return false;
    }

    /// <summary>The address clients reach this server at when a request does not tell (TFTP gives no local address to
    /// the file source): DHCP's server address, else the first listen address, else this machine's first IPv4.</summary>
    public static IPAddress DefaultServerAddress(PxeKitOptions options)
    {
        if (!options.Dhcp.Server.ServerAddress.Equals(IPAddress.Any))
            return options.Dhcp.Server.ServerAddress;
        if (options.Listen.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !a.Equals(IPAddress.Any)) is { } listen)
            return listen;
        foreach (var nic in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != System.Net.NetworkInformation.OperationalStatus.Up
                || nic.NetworkInterfaceType == System.Net.NetworkInformation.NetworkInterfaceType.Loopback)
                continue;
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                if (unicast.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                    return unicast.Address;
            }
        }
        return IPAddress.Loopback;
    }

    /// <summary>Builds a generation; a broken one throws <see cref="ConfigurationException"/> before it is used.</summary>
    /// <param name="factsFor">Facts for a MAC from what the trace knows (pxelinux files name only the MAC).</param>
    public static BootConfiguration Create(PxeKitOptions options, Func<string, ClientFacts>? factsFor = null, IPAddress? serverAddress = null)
    {
        options.Dhcp.Boot.HttpPort = options.Http.Port;
        options.Dhcp.Boot.HttpEnabled = options.Http.Enabled;
        var generated = options.Bcd.ToDictionary(b => b.Path, GeneratedBcds.Build);
        var policy = options.Boot is { } definition ? new BootPolicy(definition) : null;
        if (policy is not null && policy.Definition.Entries.Values.OfType<WimbootEntry>().Any(w => w.Bcd is null))
        {
            // Entries that name no BCD get a WinPE store made for wimboot (\sources\boot.wim, \boot\boot.sdi are
            // where wimboot's virtual disk shows the files), one per firmware: the most common cause of 0xc000000f
            // is a hand-made store that points somewhere else.
            generated.TryAdd(WimbootEntry.GeneratedBcdBios, BcdRecipes.WinPe(new WinPeBcdOptions { Firmware = BcdFirmware.Bios }));
            generated.TryAdd(WimbootEntry.GeneratedBcdUefi, BcdRecipes.WinPe(new WinPeBcdOptions { Firmware = BcdFirmware.Uefi }));
        }
        PxelinuxConfigRenderer? pxelinux = policy is null ? null : new PxelinuxConfigRenderer(policy);
        var server = serverAddress ?? DefaultServerAddress(options);
        ClientFacts Anonymous(string mac) => new()
        {
            Mac = mac, ServerAddress = server, HttpPort = options.Http.Port, TftpPort = options.Tftp.Port, Platform = ClientPlatform.BiosI386,
        };
        var files = new BootFileSystem(options.Root,
            [.. options.Tftp.Remap.Select(r => RemapRule.Create(r.Match, r.Replace))], options.Tftp.CaseInsensitive, generated)
        {
            Dynamic = pxelinux is null
                ? null
                : name => pxelinux.Render(name, mac => (factsFor?.Invoke(mac) ?? Anonymous(mac)) with { Platform = ClientPlatform.BiosI386 }, Anonymous(""))
                    is { } text ? System.Text.Encoding.UTF8.GetBytes(text) : null,
        };
        return new BootConfiguration(options, files, policy);
    }
}

/// <summary>The DHCP server's boot question, answered by the generation in force when the packet arrives.</summary>
internal sealed class LiveDhcpBootPolicy(LiveBootConfiguration live) : PxeKit.Protocols.Dhcp.IDhcpBootPolicy
{
    public PxeKit.Protocols.Dhcp.DhcpBootChoice? Choose(PxeKit.Protocols.Dhcp.DhcpBootRequest request) => live.Current.DhcpPolicy.Choose(request);
}

/// <summary>The configuration in force; replaced whole by a reload.</summary>
public sealed class LiveBootConfiguration(BootConfiguration initial)
{
    private BootConfiguration _current = initial;

    public BootConfiguration Current => Volatile.Read(ref _current);

    public void Replace(BootConfiguration next) => Volatile.Write(ref _current, next);
}
