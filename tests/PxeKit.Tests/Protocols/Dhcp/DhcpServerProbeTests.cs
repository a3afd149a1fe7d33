using System.Net;
using PxeKit.Protocols.Dhcp;

namespace PxeKit.Tests.Protocols.Dhcp;

public class DhcpServerProbeTests
{
    [Theory]
    [InlineData(DhcpMode.Proxy, true)]
    [InlineData(DhcpMode.Full, false)]
    public async Task Probe_lists_the_answering_server_and_what_it_offered(DhcpMode mode, bool proxy)
    {
        await using var h = new DhcpHarness(mode);
        var answers = await DhcpServerProbe.ProbeAsync(h.Broadcast, DhcpHarness.Server67, TimeSpan.FromSeconds(1), CancellationToken.None);
        var answer = Assert.Single(answers);
        Assert.Equal(DhcpHarness.ServerAddress, answer.Server);
        Assert.Equal(proxy, answer.IsProxy);
        Assert.Equal("ipxe.efi", answer.BootFile);
        if (!proxy)
            Assert.Equal(IPAddress.Parse("192.0.2.100"), answer.OfferedAddress);
    }

    [Fact]
    public void Probe_mac_is_locally_administered_unicast()
    {
        var mac = DhcpServerProbe.RandomMac();
        Assert.Equal(2, mac[0] & 3);
    }
}
