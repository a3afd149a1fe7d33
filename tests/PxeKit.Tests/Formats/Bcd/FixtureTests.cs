using PxeKit.Formats.Bcd;
using PxeKit.Formats.Registry;
using PxeKit.Tests.Formats.Registry;

namespace PxeKit.Tests.Formats.Bcd;

/// <summary>Every store of shared/fixtures/bcd (real files, mostly written by Windows; spec §9).</summary>
public class FixtureTests
{
    public static TheoryData<string> Fixtures()
    {
        var data = new TheoryData<string>();
        foreach (var file in SharedFixtures.Files("bcd"))
            data.Add(Path.GetFileName(file));
        return data;
    }

    public static TheoryData<string> BcdFixtures()
    {
        var data = new TheoryData<string>();
        foreach (var file in SharedFixtures.Files("bcd"))
        {
            if (Path.GetFileName(file) != "hivex_minimal")
                data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [Fact]
    public void All_nine_fixtures_are_found() => Assert.Equal(9, SharedFixtures.Files("bcd").Count());

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Fixture_opens_and_round_trips_with_the_same_logical_content(string name)
    {
        var original = RegistryHive.Open(SharedFixtures.Read("bcd", name));
        var rewritten = RegistryHive.Open(original.ToBytes(new HiveWriteOptions { Timestamp = HiveWriteOptions.ReferenceTimestamp }));
        Assert.Equal(HiveSnapshot.Of(original), HiveSnapshot.Of(rewritten));
        Assert.Equal(original.Root.Name, rewritten.Root.Name);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Round_trip_keeps_timestamps_and_security_of_untouched_keys(string name)
    {
        var original = RegistryHive.Open(SharedFixtures.Read("bcd", name));
        var rewritten = RegistryHive.Open(original.ToBytes(new HiveWriteOptions { Timestamp = HiveWriteOptions.ReferenceTimestamp }));
        var a = Flatten(original.Root);
        var b = Flatten(rewritten.Root);
        Assert.Equal(a.Count, b.Count);
        for (var i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].LastWritten, b[i].LastWritten);
            Assert.Equal(a[i].SecurityDescriptor.ToArray(), b[i].SecurityDescriptor.ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(BcdFixtures))]
    public void Fixture_shows_every_object_with_a_heading_and_identifier(string name)
    {
        var store = BcdStore.Open(SharedFixtures.Read("bcd", name));
        var text = BcdEnumeration.ToText(store);
        Assert.Equal(store.Objects.Count, text.Split('\n').Count(l => l.StartsWith("identifier ", StringComparison.Ordinal)));
        Assert.DoesNotContain("unknown", text, StringComparison.Ordinal);
        Assert.NotNull(BcdEnumeration.ToJson(store));
    }

    [Theory]
    [MemberData(nameof(BcdFixtures))]
    public void Every_device_element_decodes_and_re_encodes_byte_for_byte(string name)
    {
        var store = BcdStore.Open(SharedFixtures.Read("bcd", name));
        foreach (var item in store.Objects)
        {
            foreach (var element in item.Elements.Where(e => e.Type.Format == BcdElementFormat.Device))
            {
                var device = element.AsDevice(out var error);
                Assert.True(device is not null, $"{item} {element.Type}: {error}");
                Assert.True(
                    element.Value.Data.Span.SequenceEqual(device!.ToArray()),
                    $"{name} {item} {element.Type} {BcdDeviceSyntax.Format(device)}:\n{Convert.ToHexStringLower(element.Value.Data.Span)}\n{Convert.ToHexStringLower(device.ToArray())}");
            }
        }
    }

    [Fact]
    public void Hivex_minimal_opens_as_a_hive_but_is_not_a_bcd_store()
    {
        var bytes = SharedFixtures.Read("bcd", "hivex_minimal");
        Assert.NotNull(RegistryHive.Open(bytes));
        var error = Assert.Throws<BcdException>(() => BcdStore.Open(bytes));
        Assert.Contains("not a BCD store", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Editing_a_windows_store_keeps_every_untouched_value()
    {
        var bytes = SharedFixtures.Read("bcd", "ntloader_grub4dos_bcd");
        var before = HiveSnapshot.Of(RegistryHive.Open(bytes));
        var store = BcdStore.Open(bytes);
        store.SetTimeout(7);
        store.SetElement(BcdWellKnownObjects.BootManager, "nointegritychecks", "Yes");
        var after = BcdStore.Open(store.ToBytes());

        var changed = HiveSnapshot.Of(after.Hive);
        var bootmgr = @"\Objects\{9dea862c-5cdd-4e70-acc1-f32b344d4795}\Elements\";
        var timeout = $"[{bootmgr}25000004] \"Element\"=";
        Assert.Equal(
            before.Select(l => l.StartsWith(timeout, StringComparison.Ordinal) ? timeout + "3:0700000000000000" : l)
                .Append($"[{bootmgr}16000048]").Append($"[{bootmgr}16000048] \"Element\"=3:01").Order(StringComparer.Ordinal),
            changed.Order(StringComparer.Ordinal));
        Assert.Equal(7UL, after.Get(BcdWellKnownObjects.BootManager).Get(BcdElementTypes.Timeout)!.AsInteger());
        Assert.True(after.Get(BcdWellKnownObjects.BootManager).Get(BcdElementTypes.NoIntegrityChecks)!.AsBoolean());
    }

    [Fact]
    public void Editing_stamps_only_the_changed_keys_with_the_new_time()
    {
        var bytes = SharedFixtures.Read("bcd", "ntloader_grub4dos_bcd");
        var original = BcdStore.Open(bytes);
        var untouched = original.Hive.Root.OpenSubKey(@"Objects\{ae5534e0-a924-466c-b836-758539a3ee3a}\Description")!.LastWritten;
        original.SetTimeout(3);
        var stamp = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var after = BcdStore.Open(original.ToBytes(new HiveWriteOptions { Timestamp = stamp }));
        Assert.Equal(untouched, after.Hive.Root.OpenSubKey(@"Objects\{ae5534e0-a924-466c-b836-758539a3ee3a}\Description")!.LastWritten);
        Assert.Equal(stamp.ToFileTime(), after.Hive.Root.OpenSubKey(@"Objects\{9dea862c-5cdd-4e70-acc1-f32b344d4795}\Elements\25000004")!.LastWritten);
    }

    [Fact]
    public void Damaged_stores_are_refused_or_shown_without_any_other_exception()
    {
        var random = new Random(7);
        foreach (var file in SharedFixtures.Files("bcd").Where(f => !f.EndsWith("hivex_minimal", StringComparison.Ordinal)))
        {
            var valid = File.ReadAllBytes(file);
            for (var round = 0; round < 300; round++)
            {
                var bytes = (byte[])valid.Clone();
                for (var flips = random.Next(1, 6); flips > 0; flips--)
                    bytes[0x1000 + random.Next(bytes.Length - 0x1000)] = (byte)random.Next(256);
                try
                {
                    var store = BcdStore.Open(bytes);
                    _ = BcdEnumeration.ToText(store);
                    _ = BcdEnumeration.ToJson(store);
                    _ = store.ToBytes();
                }
                catch (HiveFormatException)
                {
                }
                catch (BcdException)
                {
                }
            }
        }
    }

    private static List<RegistryKey> Flatten(RegistryKey root)
    {
        var keys = new List<RegistryKey>();
        var stack = new Stack<RegistryKey>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var key = stack.Pop();
            keys.Add(key);
            foreach (var child in key.SubKeys)
                stack.Push(child);
        }
        return keys;
    }
}
