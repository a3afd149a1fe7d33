using PxeKit.EndToEnd.Infrastructure;
using PxeKit.Formats.Bcd;
using PxeKit.Formats.Registry;

namespace PxeKit.EndToEnd.Formats;

/// <summary>
/// hivex reads what we write with the content we meant, can modify it, and agrees with our reader on every
/// store of shared/fixtures/bcd (spec §1.12 checklist, §9 fixtures).
/// </summary>
public sealed class BcdHivexTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("pxekit-hivex-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    public static TheoryData<string> Written() => new()
    {
        "winpe-bios", "winpe-uefi", "windows-boot", "windows-locate", "windows-locate-path", "vhd", "bcdedit-sequence", "edited-fixture", "big-data",
    };

    private static RegistryHive Build(string name) => name switch
    {
        "winpe-bios" => RegistryHive.Open(BcdRecipes.WinPe(new WinPeBcdOptions())),
        "winpe-uefi" => RegistryHive.Open(BcdRecipes.WinPe(new WinPeBcdOptions { Firmware = BcdFirmware.Uefi, WimPath = @"\sources\x64\boot.wim" })),
        "windows-boot" => RegistryHive.Open(BcdRecipes.Windows(new WindowsBcdOptions { Device = BcdWindowsDevice.Boot })),
        "windows-locate" => RegistryHive.Open(BcdRecipes.Windows(new WindowsBcdOptions { Device = BcdWindowsDevice.Locate })),
        "windows-locate-path" => RegistryHive.Open(BcdRecipes.Windows(new WindowsBcdOptions { Device = BcdWindowsDevice.LocatePath })),
        "vhd" => RegistryHive.Open(BcdRecipes.Vhd(new VhdBcdOptions { VhdPath = @"\images\x.vhd" })),
        "bcdedit-sequence" => BcdedItSequence().Hive,
        "edited-fixture" => EditedFixture().Hive,
        _ => BigData(),
    };

    private static BcdStore BcdedItSequence()
    {
        var store = BcdStore.Create();
        store.CreateObject(BcdWellKnownObjects.BootManager, BcdObjectTypes.BootManager, "Windows Boot Manager");
        var id = new Guid("a4f89c62-2142-11e6-80b6-00155da04110");
        store.CreateObject(id, BcdObjectTypes.OsLoader, "WinPE");
        store.SetElement(id, "device", @"ramdisk=[boot]\sources\boot.wim,{ramdiskoptions}");
        store.SetElement(id, "osdevice", @"ramdisk=[boot]\sources\boot.wim,{ramdiskoptions}");
        store.SetElement(id, "winpe", "Yes");
        store.SetElement(id, "nx", "OptIn");
        store.SetElement(id, "custom:12345678", "hello");
        store.CreateObject(BcdWellKnownObjects.RamdiskOptions, BcdObjectTypes.DeviceOptions, "Ramdisk Options");
        store.SetElement(BcdWellKnownObjects.RamdiskOptions, "ramdisksdidevice", "boot");
        store.SetElement(BcdWellKnownObjects.RamdiskOptions, "ramdisksdipath", @"\boot\boot.sdi");
        store.SetDisplayOrder([id]);
        store.SetDefault(id);
        store.SetTimeout(10);
        return store;
    }

    private static string FixturePath(string name) => Path.Combine(SharedFixtureDirectory(), name);

    private static BcdStore EditedFixture()
    {
        var store = BcdStore.Open(File.ReadAllBytes(FixturePath("ntloader_grub4dos_bcd")));
        store.SetTimeout(3);
        store.SetElement(BcdWellKnownObjects.BootManager, "nointegritychecks", "Yes");
        return store;
    }

    /// <summary>A general hive: a value larger than one cell ("db" big data), UTF-16 names, a default value.</summary>
    private static RegistryHive BigData()
    {
        var hive = RegistryHive.Create("ROOT");
        // Latin-1 names (stored "compressed") are left out: hivexregedit prints them as raw Latin-1 bytes, not UTF-8.
        var key = hive.Root.CreateSubKey(@"Software\Ключ");
        var big = new byte[40000];
        for (var i = 0; i < big.Length; i++)
            big[i] = (byte)(i * 7);
        key.SetValue("Big", RegistryValueType.Binary, big);
        key.SetValue("", RegistryValueType.String, RegistryValue.EncodeString("default value"));
        key.SetValue("Имя", RegistryValueType.DWord, [1, 2, 3, 4]);
        return hive;
    }

    private static string SharedFixtureDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared"), Path.Combine(dir.FullName, "..", "shared") })
            {
                var fixtures = Path.Combine(candidate, "fixtures", "bcd");
                if (Directory.Exists(fixtures))
                    return Path.GetFullPath(fixtures);
            }
        }
        throw new DirectoryNotFoundException($"shared/fixtures/bcd not found above {AppContext.BaseDirectory}");
    }

    public static TheoryData<string> Fixtures()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(SharedFixtureDirectory()).Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Written))]
    public async Task Hivexregedit_reads_what_we_write_with_the_content_we_meant(string name)
    {
        var hive = Build(name);
        var file = Path.Combine(directory, name);
        File.WriteAllBytes(file, hive.ToBytes(new HiveWriteOptions { Timestamp = HiveWriteOptions.ReferenceTimestamp }));
        Assert.Equal(HivexExport.Of(hive), await HivexExport.ExportAsync(file));
    }

    [Theory]
    [MemberData(nameof(Written))]
    public async Task Hivexml_parses_what_we_write(string name)
    {
        var file = Path.Combine(directory, name);
        File.WriteAllBytes(file, Build(name).ToBytes());
        var program = ExternalTool.Require("hivexml", "libhivex-bin");
        var result = await ExternalTool.RunAsync(program, [file], HivexExport.Limit);
        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Contains("<hive", result.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Written))]
    public async Task Hivexsh_can_add_a_key_and_commit_and_we_read_the_result(string name)
    {
        var file = Path.Combine(directory, name);
        File.WriteAllBytes(file, Build(name).ToBytes());
        var program = ExternalTool.Require("hivexsh", "libhivex-bin");
        var result = await ExternalTool.RunAsync(program, ["-w", file], HivexExport.Limit,
            standardInput: "add AddedByHivex\ncd AddedByHivex\nsetval 1\nProbe\nstring:from hivex\ncommit\n");
        Assert.True(result.ExitCode == 0 && result.StandardError.Length == 0, result.Describe());
        var reread = RegistryHive.Open(File.ReadAllBytes(file));
        var added = reread.Root.GetSubKey("AddedByHivex");
        Assert.NotNull(added);
        Assert.Equal("from hivex", RegistryValue.DecodeString(added.GetValue("Probe")!.Data.Span));
        // Everything else is still there, as hivex and we both see it.
        Assert.Equal(HivexExport.Of(reread), await HivexExport.ExportAsync(file));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task Our_reader_agrees_with_hivexregedit_on_every_fixture(string name)
    {
        var file = FixturePath(name);
        var ours = HivexExport.Of(RegistryHive.Open(File.ReadAllBytes(file)));
        Assert.Equal(await HivexExport.ExportAsync(file), ours);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task Show_lists_every_element_hivexregedit_sees(string name)
    {
        if (name == "hivex_minimal")
            return; // not a BCD store: covered by the registry-level comparison above
        var file = FixturePath(name);
        var export = await HivexExport.ExportAsync(file);
        var store = BcdStore.Open(File.ReadAllBytes(file));
        var shown = BcdEnumeration.Enumerate(store, verbose: true)
            .SelectMany(e => e.Lines.Select(l => $"{BcdWellKnownObjects.Format(e.Id)}\\Elements\\{l.Type:x8}"))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var elementsInExport = export
            .Where(l => l.StartsWith(@"[\Objects\", StringComparison.Ordinal) && l.EndsWith(']') && l.Contains(@"\Elements\", StringComparison.Ordinal))
            .Select(l => l[@"[\Objects\".Length..^1])
            .ToList();
        Assert.NotEmpty(elementsInExport);
        foreach (var element in elementsInExport)
            Assert.Contains(element, shown);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task Rewritten_fixture_exports_exactly_like_the_original(string name)
    {
        var original = FixturePath(name);
        var rewritten = Path.Combine(directory, name);
        File.WriteAllBytes(rewritten, RegistryHive.Open(File.ReadAllBytes(original)).ToBytes());
        Assert.Equal(await HivexExport.ExportAsync(original), await HivexExport.ExportAsync(rewritten));
    }

    [Fact]
    public async Task Edited_windows_fixture_keeps_every_untouched_value_as_hivex_sees_it()
    {
        var original = await HivexExport.ExportAsync(FixturePath("ntloader_grub4dos_bcd"));
        var edited = Path.Combine(directory, "edited");
        File.WriteAllBytes(edited, EditedFixture().ToBytes());
        var after = await HivexExport.ExportAsync(edited);
        var bootmgr = @"[\Objects\{9dea862c-5cdd-4e70-acc1-f32b344d4795}\Elements\";
        Assert.Equal(
            original.Where(l => !l.StartsWith(bootmgr + "25000004] ", StringComparison.Ordinal)),
            after.Where(l => !l.StartsWith(bootmgr + "25000004] ", StringComparison.Ordinal) && !l.StartsWith(bootmgr + "16000048]", StringComparison.Ordinal)));
        Assert.Contains(bootmgr + "25000004] \"Element\"=3:0300000000000000", after);
        Assert.Contains(bootmgr + "16000048] \"Element\"=3:01", after);
    }
}
