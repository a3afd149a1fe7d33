using System.Globalization;
using System.Net;

namespace PxeKit.EndToEnd.Infrastructure;

/// <summary>
/// A private Linux network namespace for one test: its own loopback and a bridge (<c>br0</c>, by default
/// 192.0.2.1/24, TEST-NET-1) that VMs join through tap devices. Servers under test run inside it with
/// <see cref="StartProcess"/>. <see cref="AttachPeerAsync"/> adds a second "host" on the same LAN (its own
/// namespace, a veth into the bridge), e.g. a plain DHCP server beside a proxyDHCP server.
/// Nothing touches the host's networks. Dispose stops the processes started here (by PID), disposes peers,
/// and deletes the namespace, which removes its bridge, taps and veths. Needs root (CAP_NET_ADMIN).
/// </summary>
public sealed class NetworkNamespace : IAsyncDisposable
{
    public const string DefaultBridgeAddress = "192.0.2.1/24";
    public const string BridgeInterface = "br0";
    public const string PeerInterface = "eth0";
    private const string NamePrefix = "pxekit-e2e-";
    private static readonly TimeSpan IpTimeout = TimeSpan.FromSeconds(20);
    private static int counter;

    private readonly List<NamespacedProcess> processes = [];
    private readonly List<NetworkNamespace> peers = [];
    private readonly HashSet<string> taps = [];
    private readonly Lock gate = new();
    private bool disposed;

    private NetworkNamespace(string name, string interfaceName, string addressWithPrefix)
    {
        Name = name;
        InterfaceName = interfaceName;
        AddressWithPrefix = addressWithPrefix;
        Address = IPAddress.Parse(addressWithPrefix.Split('/')[0]);
    }

    /// <summary>Namespace name as `ip netns list` shows it (unique per process and instance).</summary>
    public string Name { get; }

    /// <summary><see cref="BridgeInterface"/> for a namespace from <see cref="CreateAsync"/>; <see cref="PeerInterface"/> for a peer.</summary>
    public string InterfaceName { get; }

    /// <summary>The first address on <see cref="InterfaceName"/>, e.g. 192.0.2.1.</summary>
    public IPAddress Address { get; }

    /// <summary>The first address with its prefix, e.g. "192.0.2.1/24".</summary>
    public string AddressWithPrefix { get; }

    public bool IsPeer => InterfaceName == PeerInterface;

    /// <summary>Creates the namespace with loopback up and a bridge carrying <paramref name="bridgeAddress"/>.</summary>
    public static async Task<NetworkNamespace> CreateAsync(string bridgeAddress = DefaultBridgeAddress)
    {
        RequireRoot();
        await RemoveStaleNamespacesAsync();
        var ns = new NetworkNamespace(NewName(), BridgeInterface, bridgeAddress);
        await IpAsync("netns", "add", ns.Name);
        try
        {
            await ns.IpHereAsync("link", "set", "lo", "up");
            await ns.IpHereAsync("link", "add", BridgeInterface, "type", "bridge", "stp_state", "0", "forward_delay", "0");
            await ns.IpHereAsync("addr", "add", bridgeAddress, "dev", BridgeInterface);
            await ns.IpHereAsync("link", "set", BridgeInterface, "up");
        }
        catch
        {
            await ns.DisposeAsync();
            throw;
        }
        return ns;
    }

    /// <summary>Adds another address to <see cref="InterfaceName"/> (e.g. "192.0.2.3/24").</summary>
    public Task AddAddressAsync(string addressWithPrefix) =>
        IpHereAsync("addr", "add", addressWithPrefix, "dev", InterfaceName);

    /// <summary>Creates a tap device enslaved to the bridge and up; returns its name (tap0, tap1...).</summary>
    public async Task<string> AddTapAsync()
    {
        RequireBridge();
        string name;
        lock (gate)
        {
            var n = 0;
            while (taps.Contains($"tap{n}"))
                n++;
            name = $"tap{n}";
            taps.Add(name);
        }
        try
        {
            await IpHereAsync("tuntap", "add", "dev", name, "mode", "tap");
            await IpHereAsync("link", "set", name, "master", BridgeInterface);
            await IpHereAsync("link", "set", name, "up");
        }
        catch
        {
            await RemoveTapAsync(name);
            throw;
        }
        return name;
    }

    /// <summary>Deletes a tap made by <see cref="AddTapAsync"/> (no error if it is already gone).</summary>
    public async Task RemoveTapAsync(string name)
    {
        lock (gate)
            taps.Remove(name);
        await RunAsync("ip", ["link", "del", name], IpTimeout);
    }

    /// <summary>
    /// A second host on this LAN: a new namespace whose <see cref="PeerInterface"/> (a veth into this bridge) carries
    /// <paramref name="addressWithPrefix"/>. Disposed with this namespace (or earlier by the caller).
    /// </summary>
    public async Task<NetworkNamespace> AttachPeerAsync(string addressWithPrefix)
    {
        RequireBridge();
        var peer = new NetworkNamespace(NewName(), PeerInterface, addressWithPrefix);
        await IpAsync("netns", "add", peer.Name);
        int index;
        lock (gate)
        {
            peers.Add(peer);
            index = peers.Count - 1;
        }
        var veth = $"veth{index.ToString(CultureInfo.InvariantCulture)}";
        await peer.IpHereAsync("link", "set", "lo", "up");
        // Both ends are created directly inside their namespaces: no name ever appears in the host's namespace.
        await IpAsync("link", "add", veth, "netns", Name, "type", "veth", "peer", "name", PeerInterface, "netns", peer.Name);
        await IpHereAsync("link", "set", veth, "master", BridgeInterface);
        await IpHereAsync("link", "set", veth, "up");
        await peer.IpHereAsync("addr", "add", addressWithPrefix, "dev", PeerInterface);
        await peer.IpHereAsync("link", "set", PeerInterface, "up");
        return peer;
    }

    /// <summary>Starts a long-running program inside the namespace; it is stopped (by PID) on dispose.</summary>
    public NamespacedProcess StartProcess(string program, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var process = NamespacedProcess.Start(Name, program, arguments, workingDirectory);
        lock (gate)
            processes.Add(process);
        return process;
    }

    /// <summary>Runs a program to completion inside the namespace, bounded by <paramref name="timeout"/>.</summary>
    public Task<ExternalTool.Result> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout) =>
        ExternalTool.RunAsync(ExternalTool.Require("ip", "iproute2"), ["netns", "exec", Name, program, .. arguments], timeout);

    /// <summary>Names of the network interfaces in the namespace (lo, br0, tap0...).</summary>
    public async Task<IReadOnlyList<string>> ListInterfacesAsync()
    {
        var result = await ExternalTool.RunAsync(ExternalTool.Require("ip", "iproute2"), ["-n", Name, "-o", "link", "show"], IpTimeout);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"ip -n {Name} link show failed: {result.Describe()}");
        // "3: tap0: <...>" or "5: veth0@if2: <...>"
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':')[1].Trim().Split('@')[0])
            .ToList();
    }

    /// <summary>Names of all network namespaces on the machine (`ip netns list`).</summary>
    public static async Task<IReadOnlyList<string>> ListNamespacesAsync()
    {
        var result = await ExternalTool.RunAsync(ExternalTool.Require("ip", "iproute2"), ["netns", "list"], IpTimeout);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"ip netns list failed: {result.Describe()}");
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ')[0])
            .ToList();
    }

    public async ValueTask DisposeAsync()
    {
        if (disposed)
            return;
        disposed = true;
        var errors = new List<Exception>();
        List<NamespacedProcess> toStop;
        List<NetworkNamespace> toDispose;
        lock (gate)
        {
            toStop = [.. processes];
            toDispose = [.. peers];
        }
        foreach (var process in toStop)
        {
            try { await process.DisposeAsync(); }
            catch (Exception e) { errors.Add(e); }
        }
        foreach (var peer in toDispose)
        {
            try { await peer.DisposeAsync(); }
            catch (Exception e) { errors.Add(e); }
        }
        try
        {
            // Deleting the namespace removes every interface in it (bridge, taps, our veth ends).
            await IpAsync("netns", "del", Name);
        }
        catch (Exception e)
        {
            errors.Add(e);
        }
        if (errors.Count > 0)
            throw new AggregateException($"cleaning up network namespace {Name} failed", errors);
    }

    private void RequireBridge()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (IsPeer)
            throw new InvalidOperationException($"{Name} is a peer namespace without a bridge");
    }

    private static void RequireRoot()
    {
        if (!Environment.IsPrivilegedProcess)
            throw new InvalidOperationException(
                "network namespaces, bridges and taps need root (CAP_NET_ADMIN); run the end-to-end tests as root (`.ci/run` does)");
    }

    private static string NewName() =>
        $"{NamePrefix}{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Interlocked.Increment(ref counter).ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Deletes namespaces named by an earlier test process (pxekit-e2e-PID-N) whose PID is gone, e.g. after a crash.</summary>
    private static async Task RemoveStaleNamespacesAsync()
    {
        foreach (var name in await ListNamespacesAsync())
        {
            if (!name.StartsWith(NamePrefix, StringComparison.Ordinal))
                continue;
            var pidText = name[NamePrefix.Length..].Split('-')[0];
            if (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
                continue;
            if (Directory.Exists($"/proc/{pid}"))
                continue;
            await ExternalTool.RunAsync(ExternalTool.Require("ip", "iproute2"), ["netns", "del", name], IpTimeout);
        }
    }

    private Task IpHereAsync(params string[] arguments) => IpAsync(["-n", Name, .. arguments]);

    private static async Task IpAsync(params string[] arguments)
    {
        var result = await ExternalTool.RunAsync(ExternalTool.Require("ip", "iproute2"), arguments, IpTimeout);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed: {result.Describe()}");
    }
}
