using System.CommandLine;
using System.Globalization;
using PxeKit.Formats.Bcd;
using PxeKit.Formats.Registry;

namespace PxeKit.Cli.Commands;

/// <summary>
/// <c>pxekit bcd</c>: Windows boot configuration stores without Windows. Recipes write a whole store in one
/// command; the bcdedit equivalents take the store file first (like <c>bcdedit /store FILE</c>) and rewrite it
/// in place, keeping everything they do not change.
/// </summary>
internal static class BcdCommand
{
    /// <summary>Exit code for a mistake in the arguments (unknown element, bad GUID, bad value).</summary>
    private const int UsageError = 2;

    /// <summary>Exit code for a file that is missing, unreadable, or not a valid store.</summary>
    private const int FileError = 1;

    /// <summary>BCD stores are a few KiB (the largest Windows store seen is 80 KiB); refuse to slurp anything huge.</summary>
    private const long MaximumStoreSize = 64L * 1024 * 1024;

    public static Command Create()
    {
        var command = new Command("bcd", "Create, inspect and edit Windows boot configuration (BCD) stores, like bcdedit.");
        command.Subcommands.Add(WinPe());
        command.Subcommands.Add(Windows());
        command.Subcommands.Add(Vhd());
        command.Subcommands.Add(CreateStore());
        command.Subcommands.Add(CreateObject());
        command.Subcommands.Add(Set());
        command.Subcommands.Add(DeleteValue());
        command.Subcommands.Add(Delete());
        command.Subcommands.Add(DisplayOrder());
        command.Subcommands.Add(Default());
        command.Subcommands.Add(Timeout());
        command.Subcommands.Add(Show());
        return command;
    }

    private static Command WinPe()
    {
        var output = new Argument<string>("out") { Description = "Store file to write (e.g. tftp/Boot/BCD)." };
        var wim = new Option<string>("--wim") { Description = "WIM path as bootmgr requests it.", DefaultValueFactory = _ => @"\sources\boot.wim" };
        var sdi = new Option<string>("--sdi") { Description = "boot.sdi path as bootmgr requests it.", DefaultValueFactory = _ => @"\boot\boot.sdi" };
        var uefi = new Option<bool>("--uefi") { Description = "Load winload.efi (UEFI) instead of winload.exe (BIOS)." };
        var id = new Option<string?>("--id") { Description = "GUID of the boot entry (default: the one Windows PE media use)." };
        var description = new Option<string>("--description") { Description = "Name of the boot entry.", DefaultValueFactory = _ => "Windows PE" };
        var timeout = new Option<ulong>("--timeout") { Description = "Boot menu timeout in seconds.", DefaultValueFactory = _ => 30 };
        var blockSize = new Option<ulong>("--tftp-block-size") { Description = "ramdisktftpblocksize; 0 leaves it out.", DefaultValueFactory = _ => 1456 };
        var windowSize = new Option<ulong>("--tftp-window-size") { Description = "ramdisktftpwindowsize; 0 leaves it out.", DefaultValueFactory = _ => 8 };
        var varWindow = new Option<bool>("--tftp-var-window") { Description = "Set ramdisktftpvarwindow (Microsoft's variable TFTP window)." };
        var command = new Command("winpe", "Write a store that boots Windows PE from a ramdisk over PXE or wimboot.")
        {
            output, wim, sdi, uefi, id, description, timeout, blockSize, windowSize, varWindow,
        };
        command.SetAction(parse => Run(parse, () =>
        {
            var options = new WinPeBcdOptions
            {
                WimPath = parse.GetValue(wim)!,
                SdiPath = parse.GetValue(sdi)!,
                Firmware = parse.GetValue(uefi) ? BcdFirmware.Uefi : BcdFirmware.Bios,
                LoaderId = parse.GetValue(id) is { } text ? ParseGuid(text) : BcdWellKnownObjects.SetupMediaLoader,
                Description = parse.GetValue(description)!,
                TimeoutSeconds = parse.GetValue(timeout),
                TftpBlockSize = parse.GetValue(blockSize) is var b and > 0 ? b : null,
                TftpWindowSize = parse.GetValue(windowSize) is var w and > 0 ? w : null,
                TftpVariableWindow = parse.GetValue(varWindow),
            };
            WriteFile(parse.GetValue(output)!, BcdRecipes.WinPe(options));
            parse.InvocationConfiguration.Output.WriteLine($"Wrote {parse.GetValue(output)}: Windows PE from {options.WimPath} ({(options.Firmware == BcdFirmware.Uefi ? "UEFI" : "BIOS")}).");
            return 0;
        }));
        return command;
    }

    private static Command Windows()
    {
        var output = new Argument<string>("out") { Description = "Store file to write." };
        var device = new Option<string>("--device") { Description = "boot (the partition bootmgr came from), locate (find \\Windows by element), or locate-path.", Required = true };
        device.AcceptOnlyFromAmong("boot", "locate", "locate-path");
        var uefi = new Option<bool>("--uefi") { Description = "Load winload.efi (UEFI) instead of winload.exe (BIOS)." };
        var id = new Option<string?>("--id") { Description = "GUID of the boot entry." };
        var description = new Option<string?>("--description") { Description = "Name of the boot entry." };
        var systemRoot = new Option<string>("--systemroot") { Description = "Windows directory.", DefaultValueFactory = _ => @"\Windows" };
        var timeout = new Option<ulong>("--timeout") { Description = "Boot menu timeout in seconds.", DefaultValueFactory = _ => 5 };
        var noIntegrity = new Option<bool>("--nointegritychecks") { Description = "Set {bootmgr} nointegritychecks Yes." };
        var command = new Command("windows", "Write a disk-independent store that boots an installed Windows (device boot or locate).")
        {
            output, device, uefi, id, description, systemRoot, timeout, noIntegrity,
        };
        command.SetAction(parse => Run(parse, () =>
        {
            var options = new WindowsBcdOptions
            {
                Device = parse.GetValue(device) switch
                {
                    "boot" => BcdWindowsDevice.Boot,
                    "locate" => BcdWindowsDevice.Locate,
                    _ => BcdWindowsDevice.LocatePath,
                },
                Firmware = parse.GetValue(uefi) ? BcdFirmware.Uefi : BcdFirmware.Bios,
                LoaderId = parse.GetValue(id) is { } text ? ParseGuid(text) : new WindowsBcdOptions().LoaderId,
                Description = parse.GetValue(description),
                SystemRoot = parse.GetValue(systemRoot)!,
                TimeoutSeconds = parse.GetValue(timeout),
                NoIntegrityChecks = parse.GetValue(noIntegrity),
            };
            WriteFile(parse.GetValue(output)!, BcdRecipes.Windows(options));
            parse.InvocationConfiguration.Output.WriteLine($"Wrote {parse.GetValue(output)}: Windows on device {parse.GetValue(device)}.");
            return 0;
        }));
        return command;
    }

    private static Command Vhd()
    {
        var output = new Argument<string>("out") { Description = "Store file to write." };
        var vhdPath = new Option<string>("--vhd") { Description = "Path of the VHD/VHDX on its partition, e.g. \\images\\win.vhdx.", Required = true };
        var parent = new Option<string>("--parent") { Description = "Where the VHD file is: locate (search partitions), boot, or partition={...}.", DefaultValueFactory = _ => "locate" };
        var uefi = new Option<bool>("--uefi") { Description = "Load winload.efi (UEFI) instead of winload.exe (BIOS)." };
        var id = new Option<string?>("--id") { Description = "GUID of the boot entry." };
        var description = new Option<string>("--description") { Description = "Name of the boot entry.", DefaultValueFactory = _ => "Windows (VHD)" };
        var timeout = new Option<ulong>("--timeout") { Description = "Boot menu timeout in seconds.", DefaultValueFactory = _ => 5 };
        var command = new Command("vhd", "Write a store for native VHD boot.") { output, vhdPath, parent, uefi, id, description, timeout };
        command.SetAction(parse => Run(parse, () =>
        {
            var path = parse.GetValue(vhdPath)!;
            var parentText = parse.GetValue(parent)!;
            // Reuse the device syntax: "[parent]path" is exactly what vhd= takes.
            var probe = BcdDeviceSyntax.Parse($"vhd=[{parentText}]{path}", BcdElementTypes.Device);
            var image = ((probe.Device as BcdDevice.Locate)!.Parent as BcdDevice.VirtualDisk)!.Image as BcdDevice.File;
            var options = new VhdBcdOptions
            {
                VhdPath = path,
                VhdParent = image!.Parent,
                Firmware = parse.GetValue(uefi) ? BcdFirmware.Uefi : BcdFirmware.Bios,
                LoaderId = parse.GetValue(id) is { } text ? ParseGuid(text) : new VhdBcdOptions().LoaderId,
                Description = parse.GetValue(description)!,
                TimeoutSeconds = parse.GetValue(timeout),
            };
            WriteFile(parse.GetValue(output)!, BcdRecipes.Vhd(options));
            parse.InvocationConfiguration.Output.WriteLine($"Wrote {parse.GetValue(output)}: Windows in vhd=[{parentText}]{path}.");
            return 0;
        }));
        return command;
    }

    private static Command CreateStore()
    {
        var file = new Argument<string>("file") { Description = "Store file to create." };
        var command = new Command("createstore", "Create an empty store (bcdedit /createstore).") { file };
        command.SetAction(parse => Run(parse, () =>
        {
            var path = parse.GetValue(file)!;
            if (File.Exists(path))
                throw new BcdException($"{path} already exists; bcdedit /createstore does not overwrite either");
            WriteFile(path, BcdStore.Create().ToBytes(WriteOptions()));
            return Done(parse);
        }));
        return command;
    }

    private static Command CreateObject()
    {
        var file = StoreArgument();
        var id = new Argument<string?>("id") { Description = "Identifier ({bootmgr}, {ramdiskoptions}, a GUID); a new GUID if omitted.", Arity = ArgumentArity.ZeroOrOne };
        var description = new Option<string?>("--description", "-d") { Description = "Description of the new entry." };
        var application = new Option<string?>("--application") { Description = "Application type: " + string.Join(", ", BcdObjectTypes.ApplicationNames.Keys) + "." };
        var inherit = new Option<string?>("--inherit") { Description = "Create an inheritable settings object: any, osloader or resume." };
        var device = new Option<bool>("--device") { Description = "Create a device options object (like {ramdiskoptions})." };
        var command = new Command("create", "Create an object (bcdedit /create).") { file, id, description, application, inherit, device };
        command.SetAction(parse => Run(parse, () =>
        {
            var store = Load(parse.GetValue(file)!);
            var idText = parse.GetValue(id);
            var objectId = idText is null ? Guid.NewGuid() : ParseGuid(idText);
            uint type;
            if (parse.GetValue(application) is { } app)
            {
                if (!BcdObjectTypes.ApplicationNames.TryGetValue(app, out type))
                    throw new BcdException($"'{app}' is not an application type; use one of {string.Join(", ", BcdObjectTypes.ApplicationNames.Keys)}");
            }
            else if (parse.GetValue(inherit) is { } kind)
            {
                if (!BcdObjectTypes.InheritNames.TryGetValue(kind, out type))
                    throw new BcdException($"'{kind}' is not an inherit type; use any, osloader or resume");
            }
            else if (parse.GetValue(device))
            {
                type = BcdObjectTypes.DeviceOptions;
            }
            else
            {
                type = BcdWellKnownObjects.DefaultTypeOf(objectId)
                    ?? throw new BcdException("say what to create: --application TYPE, --inherit TYPE or --device (only well-known identifiers have a type of their own)");
            }
            var desc = parse.GetValue(description);
            if (desc is null && BcdObjectTypes.ObjectCode(type) == 1 && BcdWellKnownObjects.DefaultTypeOf(objectId) is null)
                throw new BcdException("a new application entry needs --description, as with bcdedit /d");
            store.CreateObject(objectId, type, desc);
            Save(parse.GetValue(file)!, store);
            parse.InvocationConfiguration.Output.WriteLine($"The entry {BcdIdentifiers.Format(objectId)} was successfully created.");
            return 0;
        }));
        return command;
    }

    private static Command Set()
    {
        var file = StoreArgument();
        var id = IdArgument();
        var name = new Argument<string>("name") { Description = "Element name as bcdedit spells it (timeout, osdevice, ramdisksdipath...) or custom:XXXXXXXX." };
        var value = new Argument<string[]>("value") { Description = "Value: text, number, Yes/No, {id} list, or a device (boot, ramdisk=[boot]\\x.wim,{ramdiskoptions}...).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("set", "Set an element of an object (bcdedit /set).") { file, id, name, value };
        command.SetAction(parse => Run(parse, () =>
        {
            var store = Load(parse.GetValue(file)!);
            store.SetElement(store.Resolve(parse.GetValue(id)!), parse.GetValue(name)!, string.Join(' ', parse.GetValue(value)!));
            Save(parse.GetValue(file)!, store);
            return Done(parse);
        }));
        return command;
    }

    private static Command DeleteValue()
    {
        var file = StoreArgument();
        var id = IdArgument();
        var name = new Argument<string>("name") { Description = "Element name or custom:XXXXXXXX." };
        var command = new Command("deletevalue", "Remove an element from an object (bcdedit /deletevalue).") { file, id, name };
        command.SetAction(parse => Run(parse, () =>
        {
            var store = Load(parse.GetValue(file)!);
            var target = store.Resolve(parse.GetValue(id)!);
            if (!store.DeleteElement(target, parse.GetValue(name)!))
                throw new BcdException($"{BcdIdentifiers.Format(target)} has no element '{parse.GetValue(name)}'");
            Save(parse.GetValue(file)!, store);
            return Done(parse);
        }));
        return command;
    }

    private static Command Delete()
    {
        var file = StoreArgument();
        var id = IdArgument();
        var command = new Command("delete", "Delete an object and remove it from display orders (bcdedit /delete).") { file, id };
        command.SetAction(parse => Run(parse, () =>
        {
            var store = Load(parse.GetValue(file)!);
            var target = store.Resolve(parse.GetValue(id)!);
            if (!store.DeleteObject(target))
                throw new BcdException($"the store has no object {BcdIdentifiers.Format(target)}");
            Save(parse.GetValue(file)!, store);
            return Done(parse);
        }));
        return command;
    }

    private static Command DisplayOrder()
    {
        var file = StoreArgument();
        var ids = new Argument<string[]>("id") { Description = "Entries in menu order.", Arity = ArgumentArity.OneOrMore };
        var addFirst = new Option<bool>("--addfirst") { Description = "Put the entry first, keep the rest." };
        var addLast = new Option<bool>("--addlast") { Description = "Put the entry last, keep the rest." };
        var remove = new Option<bool>("--remove") { Description = "Remove the entries from the list." };
        var command = new Command("displayorder", "Set the boot menu order (bcdedit /displayorder).") { file, ids, addFirst, addLast, remove };
        command.SetAction(parse => Run(parse, () =>
        {
            var store = Load(parse.GetValue(file)!);
            var change = parse.GetValue(addFirst) ? DisplayOrderChange.AddFirst
                : parse.GetValue(addLast) ? DisplayOrderChange.AddLast
                : parse.GetValue(remove) ? DisplayOrderChange.Remove
                : DisplayOrderChange.Replace;
            var resolved = parse.GetValue(ids)!.Select(store.Resolve).ToList();
            foreach (var entry in resolved)
                store.Get(entry);
            store.SetDisplayOrder(resolved, change);
            Save(parse.GetValue(file)!, store);
            return Done(parse);
        }));
        return command;
    }

    private static Command Default()
    {
        var file = StoreArgument();
        var id = IdArgument();
        var command = new Command("default", "Set the default entry (bcdedit /default).") { file, id };
        command.SetAction(parse => Run(parse, () =>
        {
            var store = Load(parse.GetValue(file)!);
            store.SetDefault(store.Resolve(parse.GetValue(id)!));
            Save(parse.GetValue(file)!, store);
            return Done(parse);
        }));
        return command;
    }

    private static Command Timeout()
    {
        var file = StoreArgument();
        var seconds = new Argument<ulong>("seconds") { Description = "Seconds the boot menu waits." };
        var command = new Command("timeout", "Set the boot menu timeout (bcdedit /timeout).") { file, seconds };
        command.SetAction(parse => Run(parse, () =>
        {
            var store = Load(parse.GetValue(file)!);
            store.SetTimeout(parse.GetValue(seconds));
            Save(parse.GetValue(file)!, store);
            return Done(parse);
        }));
        return command;
    }

    private static Command Show()
    {
        var file = StoreArgument();
        var json = new Option<bool>("--json") { Description = "Print JSON instead of bcdedit-style text." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Print GUIDs instead of {default} (bcdedit /v)." };
        var command = new Command("show", "List every object of a store (bcdedit /store FILE /enum all).") { file, json, verbose };
        command.SetAction(parse => Run(parse, () =>
        {
            var store = Load(parse.GetValue(file)!);
            var text = parse.GetValue(json)
                ? BcdEnumeration.ToJson(store, parse.GetValue(verbose))
                : BcdEnumeration.ToText(store, parse.GetValue(verbose));
            parse.InvocationConfiguration.Output.Write(text);
            return 0;
        }));
        return command;
    }

    private static Argument<string> StoreArgument() => new("store") { Description = "BCD store file." };

    private static Argument<string> IdArgument() => new("id") { Description = "Identifier: {bootmgr}, {default}, {ramdiskoptions}, or a GUID." };

    private static Guid ParseGuid(string text) =>
        BcdIdentifiers.TryParse(text, out var id) ? id : throw new BcdException($"'{text}' is not a GUID or a well-known identifier like {{bootmgr}}");

    private static int Done(ParseResult parse)
    {
        parse.InvocationConfiguration.Output.WriteLine("The operation completed successfully.");
        return 0;
    }

    /// <summary>One sentence on stderr and a non-zero exit for user and file mistakes; anything else is a bug and surfaces.</summary>
    private static int Run(ParseResult parse, Func<int> action)
    {
        var error = parse.InvocationConfiguration.Error;
        try
        {
            return action();
        }
        catch (BcdException e)
        {
            error.WriteLine($"pxekit bcd: {e.Message}");
            return UsageError;
        }
        catch (HiveFormatException e)
        {
            error.WriteLine($"pxekit bcd: not a valid registry hive: {e.Message}");
            return FileError;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"pxekit bcd: {e.Message}");
            return FileError;
        }
    }

    private static BcdStore Load(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new FileNotFoundException($"{path} does not exist");
        if (info.Length > MaximumStoreSize)
            throw new IOException($"{path} is {info.Length} bytes; BCD stores are a few KiB (limit {MaximumStoreSize})");
        var bytes = File.ReadAllBytes(path);
        try
        {
            return BcdStore.Open(bytes);
        }
        catch (HiveFormatException e)
        {
            throw new HiveFormatException($"{path}: {e.Message}");
        }
        catch (BcdException e)
        {
            // A valid hive that is not a store is a problem with the file, not with the arguments.
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    private static void Save(string path, BcdStore store) => WriteFile(path, store.ToBytes(WriteOptions()));

    /// <summary>
    /// Edits are stamped with the current time like bcdedit, or with SOURCE_DATE_EPOCH when set (reproducible
    /// builds). Recipes always use their fixed timestamp so the same command gives the same bytes.
    /// </summary>
    private static HiveWriteOptions WriteOptions()
    {
        var epoch = Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH");
        if (epoch is not null && long.TryParse(epoch, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            return new HiveWriteOptions { Timestamp = DateTimeOffset.FromUnixTimeSeconds(seconds) };
        return new HiveWriteOptions();
    }

    /// <summary>Writes next to the target and renames, so a crash never leaves a half-written store behind.</summary>
    private static void WriteFile(string path, byte[] bytes)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"directory {directory} does not exist");
        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, full, overwrite: true);
    }
}
