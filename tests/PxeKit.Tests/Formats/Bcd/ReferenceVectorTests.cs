using System.Security.Cryptography;
using PxeKit.Formats.Bcd;

namespace PxeKit.Tests.Formats.Bcd;

/// <summary>Spec §8: a writer following §1.11 with the same inputs reproduces the reference files byte for byte.</summary>
public class ReferenceVectorTests
{
    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public void Sequence_A_reproduces_bcd_A()
    {
        var bytes = ReferenceStores.SequenceA().ToBytes(ReferenceStores.Options);
        Assert.Equal(8192, bytes.Length);
        Assert.Equal("0d224608a6ef0c4799e52500a0d02c7a3c1472835063b0938c09caf004b04595", Sha256(bytes));
    }

    [Fact]
    public void Sequence_A_with_uefi_path_and_tftp_tuning_reproduces_bcd_A_x64_efi()
    {
        var bytes = ReferenceStores.SequenceAUefi().ToBytes(ReferenceStores.Options);
        Assert.Equal(12288, bytes.Length);
        Assert.Equal("c17edc174bdd8d8f995060ee332b20c7f3b263acc6b9f339e457696f8a0355e2", Sha256(bytes));
    }

    [Fact]
    public void Windows_recipe_with_locate_reproduces_bcd_C()
    {
        var bytes = BcdRecipes.Windows(new WindowsBcdOptions { Device = BcdWindowsDevice.Locate, LoaderId = ReferenceStores.LocateEntry });
        Assert.Equal(8192, bytes.Length);
        Assert.Equal("27c496f0868d3950e15b30d203747fa33c9bf3a41f53a7616a778bb8dbc41e29", Sha256(bytes));
    }

    [Fact]
    public void Windows_recipe_with_boot_device_reproduces_bcd_B()
    {
        var bytes = BcdRecipes.Windows(new WindowsBcdOptions
        {
            Device = BcdWindowsDevice.Boot, LoaderId = ReferenceStores.BootEntry, NoIntegrityChecks = true,
        });
        Assert.Equal(8192, bytes.Length);
        Assert.Equal("ca57a23821ee998efb4552647627ddbb865360f65bee962ced1ad431faa4624f", Sha256(bytes));
    }

    [Fact]
    public void Windows_recipe_with_locate_by_path_reproduces_bcd_C_string()
    {
        var bytes = BcdRecipes.Windows(new WindowsBcdOptions { Device = BcdWindowsDevice.LocatePath, LoaderId = ReferenceStores.LocateEntry });
        Assert.Equal("9a12ba0157a9ea077ecaf7d13bfff2ed18187da49bb16e944bfec8199a85663d", Sha256(bytes));
    }

    [Fact]
    public void Writer_output_is_identical_for_identical_input()
    {
        Assert.Equal(ReferenceStores.SequenceA().ToBytes(ReferenceStores.Options), ReferenceStores.SequenceA().ToBytes(ReferenceStores.Options));
    }

    [Fact]
    public void Bcd_A_cells_match_the_debugging_dump_of_spec_8()
    {
        var bytes = ReferenceStores.SequenceA().ToBytes(ReferenceStores.Options);
        // Base block: first 0x48 bytes and the checksum (spec §1.2 vector).
        Assert.Equal(
            "72656766010000000100000000c08976453cda01010000000300000000000000" +
            "010000002000000000100000010000005c003f003f005c0043003a005c004200" +
            "4300440000000000",
            Convert.ToHexStringLower(bytes.AsSpan(0, 0x48)));
        Assert.Equal("2a896b11", Convert.ToHexStringLower(bytes.AsSpan(0x1FC, 4)));
        // Root lf @0x910 and the Description value list/vk/data (cell offsets + 0x1000).
        Assert.Equal("e8ffffff6c660200000100004465736360010000", Convert.ToHexStringLower(bytes.AsSpan(0x1910, 20)));
        Assert.Equal("f8ffffff30090000", Convert.ToHexStringLower(bytes.AsSpan(0x1928, 8)));
        Assert.Equal(
            "e0ffffff766b0700180000005009000001000000010000004b65794e616d6500",
            Convert.ToHexStringLower(bytes.AsSpan(0x1930, 32)));
        // sk @0x80: self-linked, RefCount 23 keys.
        Assert.Equal("80ffffff736b000080000000800000001700000064000000", Convert.ToHexStringLower(bytes.AsSpan(0x1080, 24)));
    }
}
