using System.Buffers.Binary;
using System.Diagnostics;
using PxeKit.Formats.Registry;
using PxeKit.Tests.Formats.Bcd;

namespace PxeKit.Tests.Formats.Registry;

/// <summary>
/// Hostile hives (shared/specs/hostile-inputs.md §2.6 R1-R7): each is refused with a HiveFormatException
/// whose message names the offset, quickly and without unbounded memory. Built by damaging the spec's
/// reference store bcd_A, whose cell layout is listed in spec §8 (root nk 0x20, sk 0x80, Description nk 0x100,
/// Objects nk 0x160, root lf 0x910, value list 0x928, vk KeyName 0x930, its data 0x950).
/// </summary>
public class HiveReaderHostileTests
{
    private const int Bins = 0x1000;
    private const int RootNk = Bins + 0x20 + 4;
    private const int DescriptionNk = Bins + 0x100 + 4;
    private const int RootLf = Bins + 0x910;
    private const int KeyNameVk = Bins + 0x930 + 4;

    private static byte[] Valid() => ReferenceStores.SequenceA().ToBytes(ReferenceStores.Options);

    private static HiveFormatException Refused(byte[] file)
    {
        var watch = Stopwatch.StartNew();
        var error = Assert.Throws<HiveFormatException>(() => RegistryHive.Open(file));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.Contains("0x", error.Message, StringComparison.Ordinal);
        return error;
    }

    private static void Put32(byte[] file, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(offset), value);

    private static void FixChecksum(byte[] file)
    {
        uint sum = 0;
        for (var i = 0; i < 0x1FC; i += 4)
            sum ^= BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(i));
        Put32(file, 0x1FC, sum);
    }

    [Fact]
    public void Reader_accepts_the_undamaged_reference_store() => Assert.NotNull(RegistryHive.Open(Valid()));

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(0x1000)]
    [InlineData(0x1FFF)]
    public void Reader_rejects_files_too_short_to_be_a_hive(int length) =>
        Refused(Valid()[..length]);

    [Fact]
    public void Reader_rejects_a_hive_whose_bins_run_past_the_end_of_the_file_R1()
    {
        var file = Valid();
        Put32(file, 0x28, 0x2000);
        FixChecksum(file);
        Assert.Contains("past the end", Refused(file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_a_wrong_checksum_R7()
    {
        var file = Valid();
        file[0x1FC] ^= 1;
        Assert.Contains("checksum", Refused(file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_unequal_sequence_numbers_as_dirty_R7()
    {
        var file = Valid();
        Put32(file, 0x8, 2);
        FixChecksum(file);
        Assert.Contains("dirty", Refused(file).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x7FFFFFF8u)]
    [InlineData(0xFFFFFFFFu)]
    [InlineData(0x24u)]
    public void Reader_rejects_a_root_cell_outside_the_bins_or_not_at_a_cell_R7(uint root)
    {
        var file = Valid();
        Put32(file, 0x24, root);
        FixChecksum(file);
        Refused(file);
    }

    [Fact]
    public void Reader_rejects_a_bin_whose_offset_field_is_not_its_position_R1()
    {
        var file = Valid();
        Put32(file, Bins + 4, 0x1000);
        Assert.Contains("says it is at", Refused(file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_a_bin_size_that_is_not_a_multiple_of_4096_R1()
    {
        var file = Valid();
        Put32(file, Bins + 8, 0x1800);
        Refused(file);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-4)]
    [InlineData(-0x5c)]
    [InlineData(-0x2000)]
    [InlineData(int.MinValue)]
    public void Reader_rejects_lying_cell_sizes_R4(int size)
    {
        var file = Valid();
        Put32(file, Bins + 0x20, unchecked((uint)size));
        var error = Refused(file);
        Assert.Contains("0x1020", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_a_pointer_to_a_free_cell_R4()
    {
        var file = Valid();
        // Mark the Description nk cell free: the root's list now points at a free cell.
        Put32(file, Bins + 0x100, 0x60);
        Assert.Contains("not the start of an allocated cell", Refused(file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_a_pointer_into_the_middle_of_a_cell_R3()
    {
        var file = Valid();
        Put32(file, RootLf + 8, 0x108);
        Refused(file);
    }

    [Fact]
    public void Reader_rejects_a_subkey_list_that_points_back_to_the_root_R2()
    {
        var file = Valid();
        Put32(file, RootLf + 8, 0x20);
        Assert.Contains("listed twice", Refused(file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_ri_list_pointing_to_ri_R2()
    {
        var file = Valid();
        // Turn the root's lf into an index root whose only leaf is itself.
        file[RootLf + 4] = (byte)'r';
        file[RootLf + 5] = (byte)'i';
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(RootLf + 6), 1);
        Put32(file, RootLf + 8, 0x910);
        Assert.Contains("another index root", Refused(file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_a_subkey_list_with_a_huge_count_R3()
    {
        var file = Valid();
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(RootLf + 6), 0xFFFF);
        Assert.Contains("65535 entries", Refused(file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_a_subkey_count_that_disagrees_with_the_list_R3()
    {
        var file = Valid();
        Put32(file, RootNk + 0x14, 0xFFFFFFFF);
        Assert.Contains("4294967295 subkeys", Refused(file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_a_huge_value_count_before_allocating_R3()
    {
        var file = Valid();
        Put32(file, DescriptionNk + 0x24, 0x3FFFFFFF);
        Refused(file);
    }

    [Fact]
    public void Reader_rejects_inline_data_longer_than_four_bytes_R5()
    {
        var file = Valid();
        // The Type value of the first object is inline (4 bytes); claim 16.
        var hive = RegistryHive.Open(file);
        Assert.NotNull(hive);
        Put32(file, KeyNameVk + 4, 0x80000010);
        Assert.Contains("inline", Refused(file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_value_data_larger_than_its_cell_R5()
    {
        var file = Valid();
        Put32(file, KeyNameVk + 4, 0x100);
        Assert.Contains("holds 28", Refused(file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_value_data_larger_than_the_hive_R5()
    {
        var file = Valid();
        Put32(file, KeyNameVk + 4, 0x7FFFFFFF);
        Assert.Contains("more than the whole hive", Refused(file).Message, StringComparison.Ordinal);
    }

    /// <summary>A 1.5 hive whose root holds one 40000-byte value, stored as db big data; returns the db cell's file offset.</summary>
    private static (byte[] File, int BigData) BigDataHive()
    {
        var hive = RegistryHive.Create("Root");
        hive.Root.SetValue("Big", RegistryValueType.Binary, new byte[40000]);
        var file = hive.ToBytes(ReferenceStores.Options);
        var valueList = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(RootNk + 0x28));
        var vk = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(Bins + (int)valueList + 4));
        var db = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(Bins + (int)vk + 4 + 8));
        Assert.Equal((byte)'d', file[Bins + (int)db + 4]);
        return (file, Bins + (int)db + 4);
    }

    [Fact]
    public void Reader_rejects_big_data_with_too_few_segments_R5()
    {
        var (file, db) = BigDataHive();
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(db + 2), 1);
        Assert.Contains("need 3 segments", Refused(file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_big_data_whose_segment_list_points_outside_the_hive_R5()
    {
        var (file, db) = BigDataHive();
        Put32(file, db + 4, 0xFFFFFFF0);
        Assert.Contains("outside", Refused(file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_big_data_segments_shorter_than_they_must_be_R5()
    {
        var (file, db) = BigDataHive();
        // Point every segment at the (8-byte) segment list cell itself.
        var list = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(db + 4));
        for (var i = 0; i < 3; i++)
            Put32(file, Bins + (int)list + 4 + (i * 4), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(db + 4)));
        Assert.Contains("needs 16344 bytes", Refused(file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_a_value_list_listing_the_same_value_twice()
    {
        var file = Valid();
        // Point the root key at the Description key's value list too.
        Put32(file, RootNk + 0x24, 1);
        Put32(file, RootNk + 0x28, 0x928);
        Assert.Contains("listed twice", Refused(file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_a_name_length_beyond_its_cell_R6()
    {
        var file = Valid();
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(DescriptionNk + 0x48), 0x200);
        Assert.Contains("name", Refused(file).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_rejects_keys_nested_deeper_than_windows_allows()
    {
        var hive = RegistryHive.Create("Root");
        var key = hive.Root;
        for (var i = 0; i < 600; i++)
            key = key.CreateSubKey("k");
        var error = Refused(hive.ToBytes(ReferenceStores.Options));
        Assert.Contains("deeper than 512", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_never_throws_anything_but_HiveFormatException_on_damaged_bytes()
    {
        var valid = Valid();
        var random = new Random(6);
        for (var round = 0; round < 3000; round++)
        {
            var file = (byte[])valid.Clone();
            for (var flips = random.Next(1, 8); flips > 0; flips--)
                file[0x1000 + random.Next(file.Length - 0x1000)] = (byte)random.Next(256);
            try
            {
                RegistryHive.Open(file);
            }
            catch (HiveFormatException)
            {
            }
        }
    }

    [Fact]
    public void Every_truncation_at_a_bin_or_cell_boundary_is_refused()
    {
        var valid = Valid();
        for (var length = 0x2000 - 8; length > 0; length -= 8)
        {
            var file = valid[..length];
            Assert.Throws<HiveFormatException>(() => RegistryHive.Open(file));
        }
    }
}

/// <summary>The list forms Windows uses beyond lf (lh, li, and ri index roots over leaves) are read like lf.</summary>
public class HiveReaderListFormTests
{
    private const int Bins = 0x1000;
    private const int RootNk = Bins + 0x20 + 4;
    private const int RootLf = Bins + 0x910;

    private static byte[] Valid() => ReferenceStores.SequenceA().ToBytes(ReferenceStores.Options);

    private static List<string> Names(byte[] file) => RegistryHive.Open(file).Root.SubKeys.Select(k => k.Name).ToList();

    [Fact]
    public void Reader_reads_lh_hash_leaves()
    {
        var file = Valid();
        file[RootLf + 5] = (byte)'h';
        Assert.Equal(["Description", "Objects"], Names(file));
    }

    [Fact]
    public void Reader_reads_li_index_leaves()
    {
        var file = Valid();
        // Rewrite the lf (count 2, 8-byte entries) as li (count 2, 4-byte entries) in the same cell.
        var description = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(RootLf + 8));
        var objects = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(RootLf + 16));
        file[RootLf + 5] = (byte)'i';
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(RootLf + 8), description);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(RootLf + 12), objects);
        Assert.Equal(["Description", "Objects"], Names(file));
    }

    [Fact]
    public void Reader_follows_an_ri_index_root_to_its_leaves()
    {
        var file = Valid();
        // Carve a 16-byte "ri" cell out of the free cell that ends the bin and point the root at it.
        var cell = 0x20;
        while (BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(Bins + cell)) < 0)
            cell += -BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(Bins + cell));
        var free = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(Bins + cell));
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(Bins + cell), -16);
        file[Bins + cell + 4] = (byte)'r';
        file[Bins + cell + 5] = (byte)'i';
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(Bins + cell + 6), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(Bins + cell + 8), 0x910);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(Bins + cell + 16), free - 16);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(RootNk + 0x1C), (uint)cell);
        Assert.Equal(["Description", "Objects"], Names(file));
    }
}
