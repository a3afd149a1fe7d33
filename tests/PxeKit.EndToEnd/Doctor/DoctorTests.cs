using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Doctor;

/// <summary>The real `pxekit doctor` executable on a broken configuration, as a sysadmin runs it before a boot.</summary>
public sealed class DoctorTests
{
    [Fact]
    public async Task Doctor_on_a_broken_configuration_exits_1_and_says_what_to_fix()
    {
        var dir = Directory.CreateTempSubdirectory("pxekit-doctor-e2e-").FullName;
        try
        {
            // Windows asks for \Boot\BCD; the root holds boot/bcd, and case-insensitive lookup is off.
            var root = Path.Combine(dir, "boot");
            Directory.CreateDirectory(Path.Combine(root, "boot"));
            await File.WriteAllBytesAsync(Path.Combine(root, "boot", "bcd"), PxeKit.Formats.Bcd.BcdRecipes.WinPe(new PxeKit.Formats.Bcd.WinPeBcdOptions()));
            var config = Path.Combine(dir, "broken.yaml");
            await File.WriteAllTextAsync(config, """
                root: ./boot
                tftp: {case-insensitive: false}
                boot:
                  default: winpe
                  entries:
                    winpe: {kind: wimboot, bcd: Boot/BCD, boot-wim: sources/boot.wim}
                """);

            var result = await ExternalTool.RunAsync("dotnet",
                [Path.Combine(AppContext.BaseDirectory, "pxekit.dll"), "doctor", "-c", config, "--no-ports"], TimeSpan.FromSeconds(60), workingDirectory: dir);

            Assert.Equal(1, result.ExitCode);
            Assert.Contains(@"asked for \Boot\BCD: not found; boot/bcd exists - enable case-insensitive lookup (tftp.case-insensitive: true) or rename boot/bcd to Boot/BCD",
                result.StandardOutput, StringComparison.Ordinal);
            Assert.Equal("", result.StandardError);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
