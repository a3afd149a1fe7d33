using System.CommandLine;

namespace PxeKit.Cli.Commands;

internal static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "Start the boot server (TFTP and HTTP; DHCP when enabled).");
        command.SetAction(_ => 0);
        return command;
    }
}
