using System.CommandLine;
using System.Globalization;

namespace PxeKit.Cli.Commands;

/// <summary><c>pxekit clients</c>: every machine the server has seen boot, from its traces.</summary>
internal static class ClientsCommand
{
    public static Command Create()
    {
        var dataDir = TraceFiles.DataDirOption();
        var config = TraceFiles.ConfigOption();
        var json = TraceFiles.JsonOption();
        var command = new Command("clients", "List the clients the server has seen (MAC, architecture, address, UUID, classes, boots); reads the traces while the server runs.")
        {
            dataDir, config, json,
        };
        command.SetAction(parse => TraceFiles.Run(parse, dataDir, config, (reader, directory) =>
        {
            var clients = reader.Clients();
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                output.Write(TraceFiles.Json(writer =>
                {
                    writer.WriteStartArray();
                    foreach (var client in clients)
                        TraceFiles.WriteClient(writer, client);
                    writer.WriteEndArray();
                }));
                return 0;
            }
            if (clients.Count == 0)
            {
                output.WriteLine(TraceFiles.NothingBootedYet(directory));
                return 0;
            }
            var rows = new List<string[]> { new[] { "MAC", "ARCH", "ADDRESS", "UUID", "VENDOR CLASS", "USER CLASS", "FIRST SEEN", "LAST SEEN", "BOOTS" } };
            foreach (var (client, boots) in clients)
            {
                rows.Add(
                [
                    client.Mac, TraceFiles.Architecture(client.Architecture), client.Address?.ToString() ?? "-", client.Uuid ?? "-",
                    client.VendorClass ?? "-", client.UserClass ?? "-", TraceFiles.Time(client.FirstSeen), TraceFiles.Time(client.LastSeen),
                    boots.ToString(CultureInfo.InvariantCulture),
                ]);
            }
            output.Write(TraceFiles.Table(rows));
            return 0;
        }, directory =>
        {
            var output = parse.InvocationConfiguration.Output;
            output.Write(parse.GetValue(json) ? TraceFiles.EmptyJsonList : TraceFiles.NothingBootedYet(directory) + "\n");
            return 0;
        }));
        return command;
    }
}
