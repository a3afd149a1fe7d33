using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using PxeKit.Server.Boot;

namespace PxeKit.Server.Hosting;

internal static partial class HttpBootFiles
{
    /// <summary>
    /// HTTP on the boot trace. The MAC is the <c>mac</c> query parameter when it reads as one (iPXE's
    /// <c>?mac=${mac}</c>, which the DHCP answer puts in the script URL), else the one the trace knows for the
    /// address. A request with a MAC also tells the trace which client has the address, so that TFTP requests
    /// from it afterwards are recorded under its MAC.
    /// </summary>
    internal sealed class HttpTrace(IBootTrace trace, TimeProvider time)
    {
        public long Start() => time.GetTimestamp();

        public void Record(HttpContext context, BootEventKind kind, string requested, string? served, string? detail,
            long bytes = 0, TimeSpan duration = default)
        {
            var address = context.Connection.RemoteIpAddress;
            var mac = MacOf(context.Request, address);
            trace.Record(new BootEvent(time.GetUtcNow(), kind, mac, address, requested, served, bytes, duration, detail));
        }

        public void Served(HttpContext context, string requested, string served, long started)
        {
            var response = context.Response;
            var method = context.Request.Method;
            var bytes = HttpMethods.IsHead(method) ? 0 : response.ContentLength ?? 0;
            var detail = string.Create(CultureInfo.InvariantCulture, $"{method} {response.StatusCode}")
                + (context.RequestAborted.IsCancellationRequested ? ", the client disconnected before the end" : "");
            Record(context, BootEventKind.HttpServed, requested, served, detail, bytes, time.GetElapsedTime(started));
        }

        private string? MacOf(HttpRequest request, IPAddress? address)
        {
            // Only a well-formed MAC is believed; anything else in the query is ignored, never stored.
            if (request.Query.TryGetValue("mac", out var values) && values.Count == 1
                && MacAddress.TryNormalize(values[0], out var mac))
            {
                // A query is anyone's claim: it may bind an address to a MAC the server has no address for yet
                // (DHCP off), never move a known client to the asker's address.
                if (address is not null && trace.MacForAddress(address) is null && trace.FindByMac(mac)?.Address is null)
                    trace.Seen(new BootClient { Mac = mac, Address = address, LastSeen = time.GetUtcNow() });
                return mac;
            }
            return null; // the trace resolves it from the address
        }
    }
}
