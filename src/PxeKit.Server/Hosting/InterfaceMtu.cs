using System.Net;
using System.Net.NetworkInformation;

namespace PxeKit.Server.Hosting;

/// <summary>MTU of the interface that holds a local address, refreshed at most every 30 seconds (interfaces come
/// and go; asking the OS on every request would cost a netlink dump).</summary>
internal sealed class InterfaceMtu(TimeProvider time)
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(30);
    private Dictionary<IPAddress, int> _byAddress = [];
    private long _refreshedAt = long.MinValue;

    public int? For(IPAddress local)
    {
        var now = time.GetTimestamp();
        if (_refreshedAt == long.MinValue || time.GetElapsedTime(_refreshedAt, now) > RefreshInterval)
        {
            _byAddress = Read();
            _refreshedAt = now;
        }
        return _byAddress.TryGetValue(local, out var mtu) ? mtu : null;
    }

    private static Dictionary<IPAddress, int> Read()
    {
        var map = new Dictionary<IPAddress, int>();
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                var properties = nic.GetIPProperties();
                int mtu;
                try
                {
                    mtu = properties.GetIPv4Properties()?.Mtu ?? 0;
                }
                catch (NetworkInformationException)
                {
                    continue;
                }
                if (mtu <= 0)
                    continue;
                foreach (var address in properties.UnicastAddresses)
                    map[address.Address] = mtu;
            }
        }
        catch (NetworkInformationException)
        {
            // Without interface data blksize is bounded by the configured maximum only.
        }
        return map;
    }
}
