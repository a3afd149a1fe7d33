using System.Buffers.Binary;
using PxeKit.Formats.Registry;
using PxeKit.Tests.Formats;

namespace PxeKit.Tests.Formats.Registry;

/// <summary>The general hive layer: the writer's layout rules (spec §1.3-1.8) and read/write round trips.</summary>
public class RegistryHiveTests
{
    private static readonly HiveWriteOptions Fixed = new() { Timestamp = HiveWriteOptions.ReferenceTimestamp };

    private static RegistryHive RoundTrip(RegistryHive hive) => RegistryHive.Open(hive.ToBytes(Fixed));

    [Fact]
    public void Empty_hive_is_one_base_block_and_one_bin_like_hivex_requires()
    {
        var bytes = RegistryHive.Create("Root").ToBytes(Fixed);
        Assert.Equal(0x2000, bytes.Length);
        Assert.Equal("Root", RegistryHive.Open(bytes).Root.Name);
    }

    [Fact]
    public void Data_larger_than_a_bin_gets_a_bin_of_its_own_and_round_trips()
    {
        var hive = RegistryHive.Create("Root");
        var data = Enumerable.Range(0, 10000).Select(i => (byte)i).ToArray();
        hive.Root.SetValue("Large", RegistryValueType.Binary, data);
        var bytes = hive.ToBytes(Fixed);
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(0x18)));
        Assert.Equal(data, RegistryHive.Open(bytes).Root.GetValue("Large")!.Data.ToArray());
    }

    [Fact]
    public void Data_beyond_16344_bytes_is_written_as_big_data_in_a_1_5_hive()
    {
        var hive = RegistryHive.Create("Root");
        var data = Enumerable.Range(0, 50000).Select(i => (byte)(i * 3)).ToArray();
        hive.Root.SetValue("Huge", RegistryValueType.Binary, data);
        var bytes = hive.ToBytes(Fixed);
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(0x18)));
        Assert.Equal(data, RegistryHive.Open(bytes).Root.GetValue("Huge")!.Data.ToArray());
    }

    [Fact]
    public void Names_outside_latin1_are_stored_as_utf16_and_round_trip()
    {
        var hive = RegistryHive.Create("Root");
        hive.Root.CreateSubKey("Ключ").SetValue(RegistryValue.FromDWord("Имя", 7));
        var back = RoundTrip(hive);
        Assert.Equal(7u, BinaryPrimitives.ReadUInt32LittleEndian(back.Root.GetSubKey("ключ")!.GetValue("имя")!.Data.Span));
    }

    [Fact]
    public void Subkeys_are_listed_in_upper_cased_ordinal_order()
    {
        var hive = RegistryHive.Create("Root");
        foreach (var name in new[] { "b", "A", "_x", "a1", "Z" })
            hive.Root.CreateSubKey(name);
        // '_' (0x5F) sorts after upper-case letters but before lower-case ones once names are upper-cased.
        Assert.Equal(["A", "a1", "b", "Z", "_x"], RoundTrip(hive).Root.SubKeys.Select(k => k.Name));
    }

    [Fact]
    public void Keys_and_values_are_found_case_insensitively_and_replaced_in_place()
    {
        var hive = RegistryHive.Create("Root");
        var key = hive.Root.CreateSubKey(@"One\Two");
        key.SetValue(RegistryValue.FromString("First", "1"));
        key.SetValue(RegistryValue.FromString("Second", "2"));
        key.SetValue(RegistryValue.FromString("FIRST", "one"));
        Assert.Same(key, hive.Root.OpenSubKey(@"one\TWO"));
        Assert.Equal(["FIRST", "Second"], key.Values.Select(v => v.Name));
        Assert.True(key.DeleteValue("second"));
        Assert.True(hive.Root.DeleteSubKey("ONE"));
        Assert.Empty(RoundTrip(hive).Root.SubKeys);
    }

    [Fact]
    public void Distinct_security_descriptors_each_get_an_sk_cell_and_survive()
    {
        var original = RegistryHive.Open(SharedFixtures.Read("bcd", "pybcd_BCDvm"));
        var descriptors = new HashSet<string>();
        var stack = new Stack<RegistryKey>([original.Root]);
        while (stack.Count > 0)
        {
            var key = stack.Pop();
            descriptors.Add(Convert.ToHexString(key.SecurityDescriptor.Span));
            foreach (var child in key.SubKeys)
                stack.Push(child);
        }
        Assert.True(descriptors.Count >= 2, "bcdedit uses a second descriptor for Objects");
        var back = RoundTrip(original);
        Assert.Equal(
            original.Root.GetSubKey("Objects")!.SecurityDescriptor.ToArray(),
            back.Root.GetSubKey("Objects")!.SecurityDescriptor.ToArray());
    }

    [Fact]
    public void Base_block_has_equal_sequences_and_a_valid_checksum_R7()
    {
        var bytes = RegistryHive.Create("Root").ToBytes(new HiveWriteOptions { Timestamp = HiveWriteOptions.ReferenceTimestamp, SequenceNumber = 9 });
        Assert.Equal(9u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(9u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        uint sum = 0;
        for (var i = 0; i < 0x1FC; i += 4)
            sum ^= BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i));
        Assert.Equal(sum, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(0x1FC)));
    }

    [Fact]
    public void Writer_uses_the_time_provider_when_no_timestamp_is_given()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero));
        var bytes = RegistryHive.Create("Root").ToBytes(new HiveWriteOptions { TimeProvider = time });
        Assert.Equal(time.GetUtcNow().ToFileTime(), BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(0xC)));
    }

    [Fact]
    public void Invalid_key_names_are_refused()
    {
        var hive = RegistryHive.Create("Root");
        Assert.Throws<ArgumentException>(() => hive.Root.CreateSubKey(new string('x', 256)));
    }
}
