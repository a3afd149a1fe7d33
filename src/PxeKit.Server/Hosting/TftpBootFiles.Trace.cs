using System.Globalization;
using System.Net;
using PxeKit.Protocols.Tftp;
using PxeKit.Server.Boot;

namespace PxeKit.Server.Hosting;

/// <summary>TFTP on the boot trace. TFTP carries no MAC: the trace finds it from the address (the DHCP ACK or an
/// HTTP request with <c>?mac=</c> that came before), else records the event under the address alone.</summary>
internal sealed partial class TftpBootFiles
{
    private void RecordRefusal(IPEndPoint client, string requested, BootEventKind kind, string reason) =>
        trace.Record(new BootEvent(time.GetUtcNow(), kind, null, client.Address, requested, Detail: reason));

    public void TransferFinished(in TftpTransferSummary summary)
    {
        var completed = summary.Outcome == TftpTransferOutcome.Completed;
        var detail = completed
            ? string.Create(CultureInfo.InvariantCulture,
                $"blksize {summary.BlockSize}, windowsize {summary.WindowSize}, {summary.Retransmissions} retransmissions")
            : string.Create(CultureInfo.InvariantCulture, $"{Outcome(summary.Outcome)} after {summary.BytesSent} of {summary.FileLength} bytes")
                + (summary.Detail is { Length: > 0 } why ? ": " + why : "");
        trace.Record(new BootEvent(time.GetUtcNow(), completed ? BootEventKind.TftpServed : BootEventKind.TftpFailed, null,
            summary.Client.Address, summary.RequestedName, summary.ServedName, summary.BytesSent, summary.Duration, detail));
    }

    private static string Outcome(TftpTransferOutcome outcome) => outcome switch
    {
        TftpTransferOutcome.ClientAborted => "the client ended the transfer",
        TftpTransferOutcome.TimedOut => "the client stopped answering",
        // A PXE ROM asks for tsize, then requests the file again from the same port: this is normal.
        TftpTransferOutcome.Superseded => "replaced by a new request from the same port (a size probe)",
        TftpTransferOutcome.ServerStopped => "the server stopped",
        _ => "failed",
    };
}
