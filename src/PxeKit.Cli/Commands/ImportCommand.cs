using System.CommandLine;
using System.Text;
using PxeKit.Server.Import;

namespace PxeKit.Cli.Commands;

/// <summary>
/// <c>pxekit import tinypxe config.ini [--output pxekit.yaml] [--force]</c>: a Tiny PXE Server configuration as an
/// equivalent pxekit.yaml, with every key it could not carry over listed on standard error and at the top of the
/// YAML. The YAML goes to standard output unless <c>--output</c> names a file.
/// </summary>
internal static class ImportCommand
{
    /// <summary>The ini is missing, unreadable or not a config.ini.</summary>
    private const int InputError = 2;

    /// <summary>The output file exists (without --force) or cannot be written.</summary>
    private const int OutputError = 1;

    public static Command Create()
    {
        var command = new Command("import", "Translate another PXE server's configuration into pxekit.yaml.");
        command.Subcommands.Add(TinyPxe());
        return command;
    }

    private static Command TinyPxe()
    {
        var ini = new Argument<string>("config.ini") { Description = "Tiny PXE Server's configuration file (config.ini next to pxesrv.exe)." };
        var output = new Option<string?>("--output", "-o") { Description = "Write the YAML to this file instead of standard output." };
        var force = new Option<bool>("--force") { Description = "Overwrite the --output file if it exists." };
        var command = new Command("tinypxe", "Translate a Tiny PXE Server config.ini into an equivalent pxekit.yaml.") { ini, output, force };
        command.SetAction(parse =>
        {
            var error = parse.InvocationConfiguration.Error;
            var path = parse.GetValue(ini)!;
            if (parse.GetValue(output) is { } existing && !parse.GetValue(force) && File.Exists(existing))
            {
                error.WriteLine($"pxekit import tinypxe: {existing} exists; add --force to overwrite it.");
                return OutputError;
            }
            TinyPxeImportResult result;
            try
            {
                result = TinyPxeImport.Translate(TinyPxeIni.Load(path), path);
            }
            catch (TinyPxeIniException e)
            {
                error.WriteLine($"pxekit import tinypxe: {e.Message}");
                return InputError;
            }

            foreach (var warning in result.Warnings)
                error.WriteLine($"pxekit import tinypxe: warning: {warning}");
            foreach (var line in result.NotTranslated)
                error.WriteLine($"pxekit import tinypxe: not translated: {line}");

            if (parse.GetValue(output) is not { } target)
            {
                parse.InvocationConfiguration.Output.Write(result.Yaml);
                return 0;
            }
            try
            {
                // CreateNew refuses an existing file atomically: no window between a check and the write.
                using var stream = new FileStream(target, parse.GetValue(force) ? FileMode.Create : FileMode.CreateNew, FileAccess.Write);
                stream.Write(new UTF8Encoding(false).GetBytes(result.Yaml));
            }
            catch (IOException) when (!parse.GetValue(force) && File.Exists(target))
            {
                error.WriteLine($"pxekit import tinypxe: {target} exists; add --force to overwrite it.");
                return OutputError;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"pxekit import tinypxe: cannot write {target}: {e.Message}");
                return OutputError;
            }
            error.WriteLine($"pxekit import tinypxe: wrote {target} ({result.NotTranslated.Count} key{(result.NotTranslated.Count == 1 ? "" : "s")} not translated).");
            return 0;
        });
        return command;
    }
}
