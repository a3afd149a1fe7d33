using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PxeKit.Server.Boot;

namespace PxeKit.Server.Hosting;

/// <summary>
/// <c>GET /boot.ipxe?mac=...</c>: the iPXE script the boot policy makes for the asking client. iPXE is first asked
/// to state its platform, architecture, CPU and UUID (a short script that chains back with them), because DHCP
/// alone cannot say whether a BIOS PC runs 64-bit code (undionly.kpxe is an i386 build on every CPU), and
/// proxyDHCP or a foreign DHCP server may have handed out the URL. Menus chain back here for submenus and for
/// password checks, with <c>menu=</c> and
/// <c>entry=</c>; a client can only open what its own menu offers.
/// </summary>
internal static partial class BootScriptEndpoint
{
    private const int MaxQueryValue = 256;

    public static IResult Serve(HttpContext context, BootConfiguration configuration, IBootTrace? trace, ILogger logger, TimeProvider time)
    {
        var policy = configuration.Policy!;
        var query = context.Request.Query;
        var client = NetworkAddress.Unmapped(context.Connection.RemoteIpAddress);
        var server = NetworkAddress.Unmapped(context.Connection.LocalIpAddress) ?? IPAddress.Loopback;
        foreach (var (name, values) in query)
        {
            if (values.Count > 1 || values.ToString().Length > MaxQueryValue || values.ToString().Any(char.IsControl))
                return Refuse(context, logger, client, $"query parameter '{Printable(name)}' is repeated, too long or has control characters", StatusCodes.Status400BadRequest);
        }

        string? mac = null;
        if (query.TryGetValue("mac", out var macText) && !MacAddress.TryNormalize(macText.ToString(), out mac))
            return Refuse(context, logger, client, $"'{Printable(macText.ToString())}' is not a MAC address", StatusCodes.Status400BadRequest);
        var platform = ClientPlatform.FromIpxe(query["platform"].ToString(), query["buildarch"].ToString(), query["cpu"].ToString());
        var baseUrl = $"http://{NetworkAddress.UrlHost(server)}:{context.Connection.LocalPort.ToString(CultureInfo.InvariantCulture)}/{configuration.ScriptPath}";
        if (mac is null || platform is null)
        {
            // The MAC from the DHCP-given URL tells the trace which client this address is, before iPXE answers.
            if (mac is not null && trace is not null)
                SeenOverHttp(trace, mac, client, null, null, time.GetUtcNow());
            return Script(context, FactGathering(baseUrl));
        }

        var known = trace?.FindByMac(mac);
        // An all-zero (or all-FF) UUID is firmware saying it has none (QEMU's default); it must not match rules.
        var uuid = query["uuid"].ToString() is { Length: > 0 } u && Guid.TryParseExact(u, "D", out var g) && g != Guid.Empty && g != Guid.AllBitsSet
            ? u.ToLowerInvariant()
            : known?.Uuid;
        var configured = policy.FindClient(mac, uuid);
        var facts = new ClientFacts
        {
            Mac = mac,
            Address = client,
            Platform = platform,
            Uuid = uuid,
            ConfiguredName = configured?.Hostname,
            ClientHostname = query["hostname"].ToString() is { Length: > 0 } h ? h : known?.Hostname,
            VendorClass = known?.VendorClass,
            UserClass = known?.UserClass,
            ServerAddress = server,
            HttpPort = context.Connection.LocalPort,
            TftpPort = configuration.Options.Tftp.Port,
        };
        var now = time.GetUtcNow();
        if (trace is not null)
            SeenOverHttp(trace, mac, client, platform.Value.Architecture, configured?.Hostname, now);

        var decision = policy.Decide(facts);
        if (decision is null)
            return Refuse(context, logger, client, $"no boot client, group or boot.default names {mac}; nothing to boot", StatusCodes.Status404NotFound, trace, facts, now);

        var scriptUrl = $"{baseUrl}?mac={mac}&platform={platform.Value.Firmware}&buildarch={platform.Value.BuildArch}"
            + (platform.Value.Cpu is { } cpu ? $"&cpu={cpu}" : "")
            + (uuid is null ? "" : $"&uuid={uuid}");
        var ipxe = configuration.Ipxe!;
        string script, what;
        var menuName = query["menu"].ToString();
        var entryName = query["entry"].ToString();
        if (menuName.Length == 0)
        {
            script = ipxe.Render(decision, facts, scriptUrl);
            what = $"{(decision.Target is BootMenu ? "menu" : "entry")} '{decision.Target.Name}' ({decision.Reason})";
        }
        else
        {
            var typed = query["password"].ToString();
            if (!policy.ReachableMenus(decision.Target).Contains(menuName))
                return Refuse(context, logger, client, $"{mac} asked for menu '{Printable(menuName)}', which its own boot target '{decision.Target.Name}' does not offer", StatusCodes.Status403Forbidden, trace, facts, now);
            if (!policy.MayOpenMenu(decision.Target, menuName, typed, decision.MenuDefault))
                return WrongPassword(context, logger, trace, now, mac, client, menuName, $"menu '{menuName}'", scriptUrl);
            var menu = policy.Definition.Menus[menuName];
            var menuDefault = decision.MenuDefault is { } d && menu.Targets.Contains(d) ? d : menu.Default;
            if (entryName.Length == 0)
            {
                script = ipxe.RenderMenu(menu, decision.MenuDefault, facts, scriptUrl, decision.Reason);
                what = $"menu '{menu.Name}' ({decision.Reason})";
            }
            else
            {
                if (!menu.Targets.Contains(entryName) || policy.Definition.Entries.GetValueOrDefault(entryName) is not { } entry)
                    return Refuse(context, logger, client, $"{mac} asked for entry '{Printable(entryName)}', which menu '{menu.Name}' does not offer", StatusCodes.Status403Forbidden, trace, facts, now);
                if (menu.Password is { } password && entryName != menuDefault && !BootPolicy.PasswordMatches(password, typed))
                    return WrongPassword(context, logger, trace, now, mac, client, menu.Name, $"'{entryName}' in menu '{menu.Name}'", $"{scriptUrl}&menu={menu.Name}");
                script = ipxe.RenderEntry(entry, facts, $"{scriptUrl}&menu={menu.Name}", decision.Reason);
                what = $"entry '{entry.Name}' from menu '{menu.Name}' ({decision.Reason})";
            }
        }

        LogRendered(logger, mac, client, platform.Value.Name, what);
        trace?.Record(new BootEvent(now, BootEventKind.ScriptRendered, mac, client, Requested: PathAndQuery(context),
            Served: decision.Target.Name, Detail: $"{platform.Value.Name}: {what}"));
        return Script(context, script);
    }

    /// <summary>
    /// The script that makes iPXE state its facts and ask again. iPXE fills the values in itself; <c>uristring</c>
    /// percent-encodes what could break the URL. On BIOS, <c>cpuid --ext 29</c> (the long-mode bit, a command every
    /// x86 iPXE build has) tells a 64-bit PC from a 32-bit one; UEFI skips it (arm64 iPXE has no cpuid), and the
    /// trailing <c>||</c> keeps a failed check from ending the script.
    /// </summary>
    internal static string FactGathering(string baseUrl) =>
        "#!ipxe\n" +
        "set pxekit-cpu ${buildarch}\n" +
        "iseq ${platform} pcbios && cpuid --ext 29 && set pxekit-cpu x86_64 ||\n" +
        $"chain --autofree {baseUrl}?mac=${{netX/mac}}&platform=${{platform}}&buildarch=${{buildarch}}&cpu=${{pxekit-cpu}}&uuid=${{uuid}}&hostname=${{hostname:uristring}}\n";

    /// <summary>
    /// What a script request may tell the trace. Its query is anyone's claim (any host can send ?mac=VICTIM), so it
    /// fills in only what nothing better has: an address or architecture for a client that has none yet. It never
    /// moves a known client to the asker's address, and its UUID is used for this request only: stored under the
    /// MAC, it could make another machine match a UUID rule.
    /// </summary>
    private static void SeenOverHttp(IBootTrace trace, string mac, IPAddress? client, ushort? architecture, string? configuredName, DateTimeOffset now)
    {
        var known = trace.FindByMac(mac);
        var address = known?.Address is null && client is not null && trace.MacForAddress(client) is null ? client : null;
        trace.Seen(new BootClient
        {
            Mac = mac,
            Address = address,
            Architecture = known?.Architecture is null ? architecture : null,
            Hostname = configuredName,
            FirstSeen = now,
            LastSeen = now,
        });
    }

    /// <summary>A template file from the root, filled in for the asking client.</summary>
    public static IResult ServeTemplate(HttpContext context, BootConfiguration configuration, BootFileLookup lookup, IBootTrace? trace, ILogger logger)
    {
        var client = NetworkAddress.Unmapped(context.Connection.RemoteIpAddress);
        var text = TemplateFiles.Read(lookup, out var refusal);
        if (text is null)
        {
            // The file is there but cannot be filled in: the admin's glob or file is at fault, not the client.
            TemplateFiles.LogRefused(logger, lookup.MappedName!, client, refusal!);
            return Results.StatusCode(StatusCodes.Status500InternalServerError);
        }
        var facts = TemplateFiles.FactsFor(context.Request.Query["mac"].ToString(), client, NetworkAddress.Unmapped(context.Connection.LocalIpAddress) ?? IPAddress.Loopback,
            context.Connection.LocalPort, configuration, trace, query: context.Request.Query);
        LogTemplate(logger, lookup.MappedName!, facts.Mac, client);
        return Script(context, BootTemplate.Expand(text, facts));
    }

    private static IResult WrongPassword(HttpContext context, ILogger logger, IBootTrace? trace, DateTimeOffset now, string mac, IPAddress? client,
        string menu, string what, string backUrl)
    {
        LogWrongPassword(logger, mac, client, what, menu);
        trace?.Record(new BootEvent(now, BootEventKind.ScriptRendered, mac, client, Requested: PathAndQuery(context),
            Served: menu, Detail: $"wrong password for {what}"));
        return Script(context, "#!ipxe\necho PxeKit: wrong password\nprompt --timeout 5000 Press any key to return to the menu ||\n"
            + $"chain --autofree {backUrl}\n", StatusCodes.Status403Forbidden);
    }

    private static IResult Refuse(HttpContext context, ILogger logger, IPAddress? client, string reason, int status, IBootTrace? trace = null, ClientFacts? facts = null, DateTimeOffset now = default)
    {
        LogRefused(logger, client, reason);
        if (trace is not null && facts is not null)
            trace.Record(new BootEvent(now, BootEventKind.ScriptRendered, facts.Mac, client, Detail: "refused: " + reason));
        return Script(context, IpxeScriptRenderer.Refusal(reason), status);
    }

    private static IResult Script(HttpContext context, string script, int status = StatusCodes.Status200OK)
    {
        // Scripts differ per client and per request: no cache may hand one client another's script.
        context.Response.Headers.CacheControl = "no-store";
        if (status >= StatusCodes.Status400BadRequest && context.Request.Headers.UserAgent.ToString().StartsWith("iPXE/", StringComparison.OrdinalIgnoreCase))
        {
            // iPXE throws away the body of an answer that is not 2xx, so the reason would never reach the machine's
            // screen: iPXE gets 200 and the script's own `exit 1` fails its chain; the status travels in a header.
            context.Response.Headers["X-PxeKit-Status"] = status.ToString(CultureInfo.InvariantCulture);
            status = StatusCodes.Status200OK;
        }
        return Results.Text(script, "text/plain; charset=utf-8", Encoding.UTF8, status);
    }

    /// <summary>The request for the trace, with the value of a <c>password</c> parameter hidden: the trace is read
    /// with `pxekit trace`, and a menu password (or a wrong guess, often close to it) must not be stored there.</summary>
    private static string PathAndQuery(HttpContext context)
    {
        var query = context.Request.QueryString.ToString();
        if (context.Request.Query.ContainsKey("password"))
        {
            var parts = query.TrimStart('?').Split('&');
            for (var i = 0; i < parts.Length; i++)
            {
                var equals = parts[i].IndexOf('=', StringComparison.Ordinal);
                var name = equals < 0 ? parts[i] : parts[i][..equals];
                if (string.Equals(Uri.UnescapeDataString(name.Replace('+', ' ')), "password", StringComparison.OrdinalIgnoreCase))
                    parts[i] = name + "=hidden";
            }
            query = "?" + string.Join('&', parts);
        }
        return Logging.ClientText.Printable(context.Request.Path + query, 200);
    }



    /// <summary>Client text inside a refusal, which is both a log line and an iPXE <c>echo</c>: made inert
    /// (<c>${shell}</c> as <c>%24%7Bshell%7D</c>), so it can neither forge a log line nor run in the client's script.</summary>
    private static string Printable(string text) => BootTemplate.Inert(text.Length > 80 ? text[..80] : text);

    [LoggerMessage(3200, LogLevel.Information, "Boot script for {Mac} at {Client} ({Platform}): {What}")]
    private static partial void LogRendered(ILogger logger, string mac, IPAddress? client, string platform, string what);

    [LoggerMessage(3201, LogLevel.Information, "Boot script refused for {Client}: {Reason}")]
    private static partial void LogRefused(ILogger logger, IPAddress? client, string reason);

    [LoggerMessage(3202, LogLevel.Warning, "Wrong menu password from {Mac} at {Client} for {What} (password of menu '{Menu}' or a menu before it)")]
    private static partial void LogWrongPassword(ILogger logger, string mac, IPAddress? client, string what, string menu);

    [LoggerMessage(3203, LogLevel.Information, "Template {Name} rendered for {Mac} at {Client}")]
    private static partial void LogTemplate(ILogger logger, string name, string mac, IPAddress? client);
}

/// <summary>Template files (<c>boot.templates</c>): read with a size cap, filled with the client's facts.</summary>
internal static partial class TemplateFiles
{
    /// <summary>Templates are scripts and configuration files; a 300 MB WIM matched by a careless glob must not be
    /// read into memory.</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>The template's text, or null with the reason it is not one: over <see cref="MaxBytes"/> (refused over
    /// HTTP and TFTP alike rather than sent with its placeholders unfilled), or unreadable.</summary>
    public static string? Read(BootFileLookup lookup, out string? refusal)
    {
        refusal = null;
        long length;
        if (lookup.Content is { } made)
        {
            if (made.Length <= MaxBytes)
                return Encoding.UTF8.GetString(made);
            length = made.Length;
        }
        else
        {
            try
            {
                var info = new FileInfo(lookup.FullPath!);
                if (info.Length <= MaxBytes)
                    return File.ReadAllText(info.FullName, Encoding.UTF8);
                length = info.Length;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                refusal = $"it cannot be read: {e.Message}";
                return null;
            }
        }
        refusal = string.Create(CultureInfo.InvariantCulture,
            $"it matches boot.templates but is {length} bytes, over the {MaxBytes}-byte limit for templates, so it is not read into memory (narrow the boot.templates glob, or keep templates small)");
        return null;
    }

    [LoggerMessage(3204, LogLevel.Warning, "Template {Name} not served to {Client}: {Reason}")]
    public static partial void LogRefused(ILogger logger, string name, IPAddress? client, string reason);

    public static ClientFacts FactsFor(string? macText, IPAddress? client, IPAddress server, int httpPort, BootConfiguration configuration,
        IBootTrace? trace, IQueryCollection? query = null)
    {
        var mac = MacAddress.TryNormalize(macText, out var m) ? m
            : client is not null && trace?.MacForAddress(client) is { } seen ? seen
            : "";
        var known = mac.Length > 0 ? trace?.FindByMac(mac) : null;
        var platform = ClientPlatform.FromIpxe(query?["platform"].ToString(), query?["buildarch"].ToString(), query?["cpu"].ToString())
            ?? (known?.Architecture is { } arch ? ClientPlatform.FromArchitecture(arch) : null);
        return new ClientFacts
        {
            Mac = mac,
            Address = client,
            Platform = platform,
            Uuid = known?.Uuid,
            ConfiguredName = mac.Length > 0 ? configuration.Policy?.FindClient(mac, known?.Uuid)?.Hostname : null,
            ClientHostname = known?.Hostname,
            VendorClass = known?.VendorClass,
            UserClass = known?.UserClass,
            ServerAddress = server,
            HttpPort = httpPort,
            TftpPort = configuration.Options.Tftp.Port,
        };
    }
}
