using PxeKit.Formats.Bcd;

namespace PxeKit.Tests.Formats.Bcd;

/// <summary>Byte-exact device vectors V1-V10 of spec §3.6, in both directions, and the bcdedit text forms.</summary>
public class BcdDeviceElementTests
{
    public static TheoryData<string, string, uint> Vectors => new()
    {
        // name, bcdedit text, element the text is set on
        { "V1", "boot", BcdElementTypes.Device },
        { "V2", @"ramdisk=[boot]\Boot\WinPE.wim,{ramdiskoptions}", BcdElementTypes.OsDevice },
        { "V3", @"ramdisk=[boot]\boot\boot.wim,{ramdiskoptions}", BcdElementTypes.Device },
        { "V4", "partition={mbr:sig=36234da4,offset=0x100000}", BcdElementTypes.Device },
        { "V5", "partition={gpt:disk=984c884b-4218-4f07-aa93-5ede4c7c5384,part=76cc3abd-2782-4839-af5c-5fc8e6659147}", BcdElementTypes.Device },
        { "V6", "locate=custom:12000002", BcdElementTypes.Device },
        { "V7", "locate=custom:22000002", BcdElementTypes.OsDevice },
        { "V8", @"locate=\Windows\system32\winload.exe", BcdElementTypes.Device },
        { "V9", @"locate=\Windows", BcdElementTypes.OsDevice },
        { "V10", @"ramdisk=[boot]\Boot\WinPE.wim", BcdElementTypes.Device },
    };

    private static readonly Dictionary<string, string> Hex = new()
    {
        ["V1"] = "00000000000000000000000000000000050000000000000048000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        ["V2"] = "e03455ae24a96c46b836758539a3ee3a00000000010000009c000000000000000300000000000000000000000000000000000000000000000100000074000000050000000500000000000000480000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000005c0042006f006f0074005c00570069006e00500045002e00770069006d000000",
        ["V3"] = "e03455ae24a96c46b836758539a3ee3a00000000010000009a000000000000000300000000000000000000000000000000000000000000000100000072000000050000000500000000000000480000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000005c0062006f006f0074005c0062006f006f0074002e00770069006d000000",
        ["V4"] = "0000000000000000000000000000000006000000000000004800000000000000000010000000000000000000000000000000000001000000a44d233600000000000000000000000000000000000000000000000000000000",
        ["V5"] = "0000000000000000000000000000000006000000000000004800000000000000bd3acc7682273948af5c5fc8e665914700000000000000004b884c981842074faa935ede4c7c538400000000000000000000000000000000",
        ["V6"] = "0000000000000000000000000000000008000000000000001e000000000000000000000002000012000000000000",
        ["V7"] = "0000000000000000000000000000000008000000000000001e000000000000000000000002000022000000000000",
        ["V8"] = "00000000000000000000000000000000080000000000000058000000000000000100000000000000000000005c00570069006e0064006f00770073005c00730079007300740065006d00330032005c00770069006e006c006f00610064002e006500780065000000",
        ["V9"] = "0000000000000000000000000000000008000000000000002e000000000000000100000000000000000000005c00570069006e0064006f00770073000000",
        ["V10"] = "0000000000000000000000000000000000000000010000009c000000000000000300000000000000000000000000000000000000000000000100000074000000050000000500000000000000480000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000005c0042006f006f0074005c00570069006e00500045002e00770069006d000000",
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Text_form_encodes_to_the_spec_vector(string vector, string text, uint element)
    {
        var encoded = BcdDeviceSyntax.Parse(text, element).ToArray();
        Assert.Equal(Hex[vector], Convert.ToHexStringLower(encoded));
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Spec_vector_decodes_to_the_text_form_and_back(string vector, string text, uint element)
    {
        _ = element;
        var bytes = Convert.FromHexString(Hex[vector]);
        Assert.True(BcdDeviceElement.TryParse(bytes, out var device, out var error), error);
        Assert.Equal(text, BcdDeviceSyntax.Format(device!));
        Assert.Equal(bytes, device!.ToArray());
    }

    [Fact]
    public void Vhd_with_locate_parent_matches_the_record_windows_wrote_in_pybcd_BCDTest()
    {
        // Objects\{fffdfa6e-8442-22f3-b2d5-323c2953814f}\Elements\11000001 of pybcd test/BCDTest.
        const string windows =
            "000000000000000000000000000000000800000000000000aa0000000000000000000000020000121e00000000000000" +
            "0000000000008c0000000000000006000000000000000000000000000000000000000000000000000000000000006400" +
            "000000000000050000000100000050000000050000000800000000000000300000000000000001000000000000000000" +
            "00005c0074006500730074002e0076006800640000005c0074006500730074002e007600680064000000";
        var device = BcdDeviceSyntax.Parse(@"vhd=[locate]\test.vhd", BcdElementTypes.Device);
        var bytes = device.ToArray();
        Assert.Equal(windows, Convert.ToHexStringLower(bytes));
        Assert.True(BcdDeviceElement.TryParse(bytes, out var back, out _));
        Assert.Equal(@"vhd=[locate]\test.vhd,locate=custom:12000002", BcdDeviceSyntax.Format(back!));
    }

    [Fact]
    public void File_device_round_trips_through_text()
    {
        var device = BcdDeviceSyntax.Parse(@"file=[boot]\EFI\boot\bootx64.efi", BcdElementTypes.Device);
        Assert.Equal(@"file=[boot]\EFI\boot\bootx64.efi", BcdDeviceSyntax.Format(BcdDeviceElement.Parse(device.ToArray())));
    }

    [Theory]
    [InlineData("C:")]
    [InlineData(@"ramdisk=[C:]\x.wim")]
    [InlineData("partition=C:")]
    [InlineData("locate=Windows")]
    [InlineData("floppy")]
    [InlineData(@"ramdisk=[boot]x.wim")]
    public void Text_forms_that_need_windows_or_are_wrong_are_rejected_with_a_sentence(string text)
    {
        var error = Assert.Throws<BcdException>(() => BcdDeviceSyntax.Parse(text, BcdElementTypes.Device));
        Assert.DoesNotContain("\n", error.Message);
    }

    [Fact]
    public void Decoder_rejects_a_record_claiming_more_bytes_than_remain()
    {
        var bytes = Convert.FromHexString(Hex["V2"]);
        bytes[0x18] = 0xFF; // ramdisk record size 0x9c -> 0xff
        Assert.False(BcdDeviceElement.TryParse(bytes, out _, out var error));
        Assert.Contains("0x10", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Decoder_caps_nesting_of_locate_records_pointing_at_locate_records()
    {
        // A chain of locate records, each with its parent right after its (empty) path: hostile-inputs R8.
        const int depth = 200;
        const int record = 0x1E;
        var bytes = new byte[16 + (depth * record)];
        for (var i = 0; i < depth; i++)
        {
            var at = 16 + (i * record);
            bytes[at] = 8;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 8), (uint)((depth - i) * record));
            if (i < depth - 1)
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 0x18), record);
        }
        Assert.False(BcdDeviceElement.TryParse(bytes, out _, out var error));
        Assert.Contains("deeper", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Decoder_rejects_a_locate_parent_offset_outside_its_record()
    {
        var bytes = Convert.FromHexString(Hex["V6"]);
        bytes[0x28] = 0x40;
        Assert.False(BcdDeviceElement.TryParse(bytes, out _, out var error));
        Assert.Contains("parent", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_truncation_of_a_vector_is_rejected_or_decoded_without_throwing()
    {
        foreach (var hex in Hex.Values)
        {
            var bytes = Convert.FromHexString(hex);
            for (var length = 0; length < bytes.Length; length++)
                _ = BcdDeviceElement.TryParse(bytes.AsSpan(0, length), out _, out _);
        }
    }
}
