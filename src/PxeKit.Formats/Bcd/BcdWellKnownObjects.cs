namespace PxeKit.Formats.Bcd;

/// <summary>
/// Well-known object identifiers and the aliases bcdedit prints for them (spec §2.3, checked against
/// Windows-written stores). Note {resumeloadersettings}: DiscUtils and phnt carry a wrong GUID; this is the one
/// Windows writes.
/// </summary>
public static class BcdWellKnownObjects
{
    public static readonly Guid BootManager = new("9dea862c-5cdd-4e70-acc1-f32b344d4795");
    public static readonly Guid FirmwareBootManager = new("a5a30fa2-3d06-4e9f-b5f4-a01df9d1fcba");
    public static readonly Guid MemoryDiagnostic = new("b2721d73-1db4-4c62-bf78-c548a880142d");
    public static readonly Guid LegacyLoader = new("466f5a88-0af2-4f76-9038-095b170dc21c");
    public static readonly Guid RamdiskOptions = new("ae5534e0-a924-466c-b836-758539a3ee3a");
    public static readonly Guid GlobalSettings = new("7ea2e1ac-2e61-4728-aaa3-896d9d0a9f0e");
    public static readonly Guid BootLoaderSettings = new("6efb52bf-1766-41db-a6b3-0ee5eff72bd7");
    public static readonly Guid ResumeLoaderSettings = new("1afa9c49-16ab-4a5c-901b-212802da9460");
    public static readonly Guid DebuggerSettings = new("4636856e-540f-4170-a130-a84776f4c654");
    public static readonly Guid EmsSettings = new("0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9");
    public static readonly Guid BadMemory = new("5189b25c-5558-4bf2-bca4-289b11bd29e2");
    public static readonly Guid HypervisorSettings = new("7ff607e0-4395-11db-b0de-0800200c9a66");
    public static readonly Guid KernelDebuggerSettings = new("313e8eed-7098-4586-a9bf-309c61f8d449");

    /// <summary>Virtual: means "the object {bootmgr} default points to"; never stored as an object.</summary>
    public static readonly Guid Default = new("1cae1eb7-a0df-4d4d-9851-4860e34ef535");

    /// <summary>Virtual: the running OS; meaningless in a store file.</summary>
    public static readonly Guid Current = new("fa926493-6f1c-4193-a414-58f0b2456d1e");

    /// <summary>The boot entry and device options object of Windows setup / WinPE media stores.</summary>
    public static readonly Guid SetupMediaLoader = new("7619dcc9-fafe-11d9-b411-000476eba25f");
    public static readonly Guid SetupMediaOptions = new("7619dcc8-fafe-11d9-b411-000476eba25f");

    private static readonly (string Alias, Guid Id, uint Type)[] Table =
    [
        ("bootmgr", BootManager, BcdObjectTypes.BootManager),
        ("fwbootmgr", FirmwareBootManager, BcdObjectTypes.FirmwareBootManager),
        ("memdiag", MemoryDiagnostic, BcdObjectTypes.MemoryTester),
        ("ntldr", LegacyLoader, BcdObjectTypes.LegacyLoader),
        ("ramdiskoptions", RamdiskOptions, BcdObjectTypes.DeviceOptions),
        ("globalsettings", GlobalSettings, BcdObjectTypes.InheritAny),
        ("bootloadersettings", BootLoaderSettings, BcdObjectTypes.InheritOsLoader),
        ("resumeloadersettings", ResumeLoaderSettings, BcdObjectTypes.InheritResume),
        ("dbgsettings", DebuggerSettings, BcdObjectTypes.InheritAny),
        ("emssettings", EmsSettings, BcdObjectTypes.InheritAny),
        ("badmemory", BadMemory, BcdObjectTypes.InheritAny),
        ("hypervisorsettings", HypervisorSettings, BcdObjectTypes.InheritOsLoader),
        ("kerneldbgsettings", KernelDebuggerSettings, BcdObjectTypes.InheritAny),
        ("default", Default, 0),
        ("current", Current, 0),
    ];

    /// <summary>"{bootmgr}" for a well-known id, null otherwise.</summary>
    public static string? AliasOf(Guid id)
    {
        foreach (var entry in Table)
        {
            if (entry.Id == id)
                return "{" + entry.Alias + "}";
        }
        return null;
    }

    /// <summary>Resolves "{bootmgr}", "bootmgr", "{legacy}", "{eventsettings}" (bcdedit's synonyms) to the GUID.</summary>
    public static bool TryGetByAlias(string alias, out Guid id)
    {
        var name = alias.Trim().TrimStart('{').TrimEnd('}');
        name = name.ToLowerInvariant() switch
        {
            "legacy" => "ntldr",
            "eventsettings" => "dbgsettings",
            var other => other,
        };
        foreach (var entry in Table)
        {
            if (string.Equals(entry.Alias, name, StringComparison.OrdinalIgnoreCase))
            {
                id = entry.Id;
                return true;
            }
        }
        id = Guid.Empty;
        return false;
    }

    /// <summary>Type of a well-known object when created without an explicit type (bcdedit /create {bootmgr}).</summary>
    public static uint? DefaultTypeOf(Guid id)
    {
        foreach (var entry in Table)
        {
            if (entry.Id == id && entry.Type != 0)
                return entry.Type;
        }
        return null;
    }

    /// <summary>Lower-case braced form, as bcdedit writes key names and object references.</summary>
    public static string Format(Guid id) => id.ToString("B");
}
