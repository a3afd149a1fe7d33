using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PxeKit.Protocols.Buffers;
using PxeKit.Protocols.Tftp;
using PxeKit.Server.Options;

namespace PxeKit.Server.Hosting;

/// <summary>Runs the TFTP server on every configured listen address for the lifetime of the host.</summary>
internal sealed class TftpListener(
    PxeKitOptions options, TftpBootFiles files, ServerEndpoints endpoints, TimeProvider time, ILoggerFactory loggers)
    : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _serving = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var mtu = new InterfaceMtu(time);
        var server = new TftpServer(options.Tftp.Server, files, new UdpDatagramTransport(), time,
            loggers.CreateLogger("PxeKit.Tftp"), mtu.For);
        foreach (var address in options.Listen)
        {
            var listen = new IPEndPoint(address, options.Tftp.Port);
            try
            {
                var (bound, serving) = server.Start(listen, _stopping.Token);
                endpoints.AddTftp(bound);
                _serving.Add(serving);
            }
            catch (SocketException e)
            {
                var hint = e.SocketErrorCode switch
                {
                    SocketError.AccessDenied => options.Tftp.Port < 1024
                        ? $" (ports below 1024 need root or CAP_NET_BIND_SERVICE; or use --tftp-port {options.Tftp.Port + 6900})"
                        : "",
                    SocketError.AddressAlreadyInUse => " (another TFTP server such as tftpd-hpa or dnsmasq is running; stop it or use --tftp-port)",
                    SocketError.AddressNotAvailable => " (no interface has this address)",
                    _ => "",
                };
                throw new ListenerStartException($"cannot listen for TFTP on udp {listen}: {e.Message}{hint}", e);
            }
        }
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_serving).WaitAsync(cancellationToken);
    }

    public void Dispose() => _stopping.Dispose();
}
