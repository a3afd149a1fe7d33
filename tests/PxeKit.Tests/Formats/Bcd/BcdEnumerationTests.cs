using PxeKit.Formats.Bcd;

namespace PxeKit.Tests.Formats.Bcd;

/// <summary>`show` output against the expected dumps of spec §4 (modelled on bcdedit /enum all).</summary>
public class BcdEnumerationTests
{
    [Fact]
    public void Bcd_A_shows_like_spec_4()
    {
        const string expected = """
            Windows Boot Manager
            --------------------
            identifier              {bootmgr}
            description             Windows BootManager
            displayorder            {a4f89c62-2142-11e6-80b6-00155da04110}
            timeout                 30

            Windows Boot Loader
            -------------------
            identifier              {a4f89c62-2142-11e6-80b6-00155da04110}
            device                  ramdisk=[boot]\Boot\WinPE.wim,{ramdiskoptions}
            description             MyWinPE Boot Image
            osdevice                ramdisk=[boot]\Boot\WinPE.wim,{ramdiskoptions}
            detecthal               Yes
            winpe                   Yes

            Setup Ramdisk Options
            ---------------------
            identifier              {ramdiskoptions}
            description             Ramdisk options
            ramdisksdidevice        boot
            ramdisksdipath          \Boot\boot.sdi

            """;
        Assert.Equal(expected, BcdEnumeration.ToText(ReferenceStores.SequenceA()));
    }

    [Fact]
    public void Bcd_C_shows_the_default_entry_as_default_like_spec_4()
    {
        var store = BcdStore.Open(BcdRecipes.Windows(new WindowsBcdOptions { Device = BcdWindowsDevice.Locate, LoaderId = ReferenceStores.LocateEntry }));
        const string expected = """
            Windows Boot Manager
            --------------------
            identifier              {bootmgr}
            description             Windows Boot Manager
            default                 {default}
            displayorder            {default}
            timeout                 5

            Windows Boot Loader
            -------------------
            identifier              {default}
            device                  locate=custom:12000002
            path                    \Windows\system32\winload.exe
            description             Windows (locate)
            osdevice                locate=custom:22000002
            systemroot              \Windows

            """;
        Assert.Equal(expected, BcdEnumeration.ToText(store));
    }

    [Fact]
    public void Verbose_shows_guids_instead_of_default()
    {
        var store = BcdStore.Open(BcdRecipes.Windows(new WindowsBcdOptions { Device = BcdWindowsDevice.Locate, LoaderId = ReferenceStores.LocateEntry }));
        var text = BcdEnumeration.ToText(store, verbose: true);
        Assert.Contains("identifier              {c0c0c0c0-0000-4000-8000-000000000001}", text, StringComparison.Ordinal);
        Assert.DoesNotContain("{default}", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Uefi_variant_shows_tftp_tuning_like_spec_4()
    {
        var text = BcdEnumeration.ToText(ReferenceStores.SequenceAUefi());
        Assert.Contains("""
            Setup Ramdisk Options
            ---------------------
            identifier              {ramdiskoptions}
            description             Ramdisk options
            ramdisksdidevice        boot
            ramdisksdipath          \Boot\boot.sdi
            ramdisktftpblocksize    1456
            ramdisktftpwindowsize   8
            """, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_carries_names_types_and_typed_values()
    {
        var json = System.Text.Json.JsonDocument.Parse(BcdEnumeration.ToJson(ReferenceStores.SequenceA()));
        var bootmgr = json.RootElement.GetProperty("objects")[0];
        Assert.Equal("{bootmgr}", bootmgr.GetProperty("identifier").GetString());
        var timeout = bootmgr.GetProperty("elements").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "timeout");
        Assert.Equal(30, timeout.GetProperty("value").GetInt32());
        Assert.Equal("25000004", timeout.GetProperty("type").GetString());
    }

    [Fact]
    public void Fixture_with_many_device_forms_shows_them_like_bcdedit()
    {
        var text = BcdEnumeration.ToText(BcdStore.Open(SharedFixtures.Read("bcd", "pybcd_BCDTest")));
        Assert.Contains(@"ramdisk=[boot]\boot\boot.wim,{ramdiskoptions}", text, StringComparison.Ordinal);
        Assert.Contains(@"vhd=[locate]\test.vhd,locate=custom:12000002", text, StringComparison.Ordinal);
        Assert.Contains("partition={mbr:sig=36234da4,offset=0x100000}", text, StringComparison.Ordinal);
        Assert.Contains("partition={gpt:disk=984c884b-4218-4f07-aa93-5ede4c7c5384,part=76cc3abd-2782-4839-af5c-5fc8e6659147}", text, StringComparison.Ordinal);
        Assert.Contains(@"file=[boot]\", text, StringComparison.Ordinal);
        Assert.Contains("custom:12345678", text, StringComparison.Ordinal);
    }
}
