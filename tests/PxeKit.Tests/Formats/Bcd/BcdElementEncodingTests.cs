using PxeKit.Formats.Bcd;

namespace PxeKit.Tests.Formats.Bcd;

/// <summary>Value vectors V11-V15 of spec §3.6 and the registry types of spec §2.4.</summary>
public class BcdElementEncodingTests
{
    private static readonly Guid Entry = new("a4f89c62-2142-11e6-80b6-00155da04110");

    [Fact]
    public void Description_is_REG_SZ_with_terminating_nul_V11()
    {
        var value = BcdElement.EncodeString("Ramdisk options");
        Assert.Equal(PxeKit.Formats.Registry.RegistryValueType.String, value.Type);
        Assert.Equal("520061006d006400690073006b0020006f007000740069006f006e0073000000", Convert.ToHexStringLower(value.Data.Span));
    }

    [Fact]
    public void Displayorder_is_REG_MULTI_SZ_with_final_extra_nul_V12()
    {
        var value = BcdElement.EncodeObjectList([Entry]);
        Assert.Equal(PxeKit.Formats.Registry.RegistryValueType.MultiString, value.Type);
        Assert.Equal(
            "7b00610034006600380039006300360032002d0032003100340032002d0031003100650036002d0038003000620036002d003000300031003500350064006100300034003100310030007d0000000000",
            Convert.ToHexStringLower(value.Data.Span));
    }

    [Fact]
    public void Integer_is_eight_byte_REG_BINARY_V13()
    {
        var value = BcdElement.EncodeInteger(30);
        Assert.Equal(PxeKit.Formats.Registry.RegistryValueType.Binary, value.Type);
        Assert.Equal("1e00000000000000", Convert.ToHexStringLower(value.Data.Span));
    }

    [Fact]
    public void Boolean_is_one_byte_REG_BINARY_V14() =>
        Assert.Equal("01", Convert.ToHexStringLower(BcdElement.EncodeBoolean(true).Data.Span));

    [Fact]
    public void Object_is_lower_case_braced_guid_V15() =>
        Assert.Equal(
            "7b00610034006600380039006300360032002d0032003100340032002d0031003100650036002d0038003000620036002d003000300031003500350064006100300034003100310030007d000000",
            Convert.ToHexStringLower(BcdElement.EncodeObject(Entry).Data.Span));

    [Fact]
    public void Short_integers_written_by_other_tools_are_zero_extended()
    {
        var element = new BcdElement(BcdElementTypes.Timeout, new PxeKit.Formats.Registry.RegistryValue("Element", PxeKit.Formats.Registry.RegistryValueType.Binary, [5, 0, 0, 0]));
        Assert.Equal(5UL, element.AsInteger());
    }

    [Theory]
    [InlineData("timeout", 0x10100002u, 0x25000004u)]
    [InlineData("default", 0x10100002u, 0x23000003u)]
    [InlineData("resumeobject", 0x10200003u, 0x23000003u)]
    [InlineData("osdevice", 0x10200003u, 0x21000001u)]
    [InlineData("filedevice", 0x10200004u, 0x21000001u)]
    [InlineData("ramdisktftpblocksize", 0x30000000u, 0x35000007u)]
    [InlineData("nointegritychecks", 0x10100002u, 0x16000048u)]
    [InlineData("custom:12345678", 0x10200003u, 0x12345678u)]
    [InlineData("DESCRIPTION", 0x30000000u, 0x12000004u)]
    public void Element_names_are_resolved_per_object_type_like_bcdedit(string name, uint objectType, uint expected)
    {
        Assert.True(BcdElementTypes.TryParse(name, objectType, out var element));
        Assert.Equal(expected, element);
    }

    [Theory]
    [InlineData("winpe", 0x10100002u)]
    [InlineData("timeout", 0x10200003u)]
    [InlineData("nosuchthing", 0x10200003u)]
    [InlineData("custom:zz", 0x10200003u)]
    public void Element_names_that_do_not_apply_are_refused(string name, uint objectType) =>
        Assert.False(BcdElementTypes.TryParse(name, objectType, out _));
}
