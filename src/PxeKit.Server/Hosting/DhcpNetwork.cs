using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using PxeKit.Protocols.Dhcp;
using PxeKit.Server.Options;

namespace PxeKit.Server.Hosting;

/// <summary>Completes the DHCP options from the served interface: our address, and the subnet for a range given
/// with --dhcp-range. Mistakes are <see cref="ConfigurationException"/>s naming the key.</summary>
internal static class DhcpNetwork
{
    public static void Resolve(DhcpOptions dhcp)
    {
        var server = dhcp.Server;
        server.Mode = dhcp.Mode;
        (IPAddress Address, int Prefix)? found = null;
        if (dhcp.Interface is { } name)
        {
            var nic = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == name)
                ?? throw new ConfigurationException($"dhcp.interface: no network interface is called '{name}' (see `ip link`)");
            var ipv4 = nic.GetIPProperties().UnicastAddresses.FirstOrDefault(u => u.Address.AddressFamily == AddressFamily.InterNetwork);
            if (ipv4 is not null)
                found = (ipv4.Address, ipv4.PrefixLength);
            if (server.ServerAddress.Equals(IPAddress.Any))
            {
                server.ServerAddress = found?.Address
                    ?? throw new ConfigurationException($"dhcp.interface: '{name}' has no IPv4 address; a DHCP server needs one (or set dhcp.server-address)");
            }
        }
        else if (server.ServerAddress.Equals(IPAddress.Any))
        {
            throw new ConfigurationException("dhcp: name the interface to serve (dhcp.interface or --interface)");
        }

        if (dhcp.Range is { } range)
        {
            var subnet = server.Subnets.FirstOrDefault(s => s.Contains(range.Start));
            if (subnet is null)
            {
                if (found is not { } onLink || !Contains(onLink.Address, onLink.Prefix, range.Start))
                    throw new ConfigurationException($"--dhcp-range {range.Start}-{range.End}: not on the network of the served interface ({found?.Address}/{found?.Prefix}); add a dhcp.subnets entry for it");
                subnet = new DhcpSubnet { Network = Network(onLink.Address, onLink.Prefix), PrefixLength = onLink.Prefix, LeaseTime = dhcp.DefaultLeaseTime };
                server.Subnets.Add(subnet);
            }
            subnet.RangeStart = range.Start;
            subnet.RangeEnd = range.End;
        }
        if (server.Validate() is { } problem)
            throw new ConfigurationException("dhcp: " + problem);
    }

    private static bool Contains(IPAddress network, int prefix, IPAddress address) =>
        new DhcpSubnet { Network = network, PrefixLength = prefix }.Contains(address);

    private static IPAddress Network(IPAddress address, int prefix)
    {
        var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        return DhcpSubnet.ToAddress(DhcpSubnet.ToUInt32(address) & mask);
    }
}
