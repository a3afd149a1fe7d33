using PxeKit.Formats.Bcd;
using PxeKit.Server.Options;

namespace PxeKit.Server.Boot;

/// <summary>Builds the BCD stores named in the configuration. Recipes are deterministic, so a client sees the
/// same bytes across restarts and an ETag stays valid.</summary>
public static class GeneratedBcds
{
    public static byte[] Build(GeneratedBcdOptions bcd)
    {
        var firmware = bcd.Uefi ? BcdFirmware.Uefi : BcdFirmware.Bios;
        return bcd.Recipe switch
        {
            "winpe" => BcdRecipes.WinPe(new WinPeBcdOptions
            {
                Firmware = firmware,
                WimPath = bcd.Wim ?? new WinPeBcdOptions().WimPath,
                SdiPath = bcd.Sdi ?? new WinPeBcdOptions().SdiPath,
            }),
            "windows" => BcdRecipes.Windows(new WindowsBcdOptions
            {
                Firmware = firmware,
                Device = bcd.Device switch
                {
                    null or "boot" => BcdWindowsDevice.Boot,
                    "locate" => BcdWindowsDevice.Locate,
                    "locate-path" => BcdWindowsDevice.LocatePath,
                    var other => throw new ConfigurationException($"bcd '{bcd.Path}': device '{other}' is not boot, locate or locate-path"),
                },
            }),
            "vhd" => BcdRecipes.Vhd(new VhdBcdOptions
            {
                Firmware = firmware,
                VhdPath = bcd.Vhd ?? throw new ConfigurationException($"bcd '{bcd.Path}': the vhd recipe needs 'vhd' (e.g. \\images\\win10.vhd)"),
            }),
            var other => throw new ConfigurationException($"bcd '{bcd.Path}': recipe '{other}' is not winpe, windows or vhd"),
        };
    }
}
