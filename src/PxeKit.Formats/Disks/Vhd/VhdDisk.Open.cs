using System.Text;

namespace PxeKit.Formats.Disks.Vhd;

public sealed partial class VhdDisk
{
    internal static VirtualDisk Open(IImageFile file, DiskOpenOptions options, int depth, IReadOnlyList<string> chain)
    {
        var layout = VhdLayout.Load(file, new VhdLayout.Sink(file.Path, collect: false))!;
        VirtualDisk? parent = null;
        if (layout.Footer.DiskType == VhdDiskType.Differencing)
            parent = OpenParent(file, layout, options, depth, chain);
        return new VhdDisk(file, layout.Footer, layout.FooterBytes, layout.Header, layout.Bat, layout.NextFree, parent);
    }

    /// <summary>
    /// Finds and opens the parent of a differencing image: the relative locator (W2ru) against this image's
    /// directory, then the absolute one (W2ku), then the parent's name from the header in this image's directory
    /// (where libvhdi's vhdimount looks). The first that exists is opened read-only and must be the same size and,
    /// when asked, have the unique id the child recorded.
    /// </summary>
    private static VirtualDisk OpenParent(IImageFile file, VhdLayout layout, DiskOpenOptions options, int depth, IReadOnlyList<string> chain)
    {
        var childPath = file.Path;
        var header = layout.Header!;
        var directory = System.IO.Path.GetDirectoryName(childPath) ?? "/";
        var candidates = new List<string>();
        foreach (var code in new[] { ParentLocator.W2ru, ParentLocator.W2ku })
        {
            foreach (var locator in header.Locators)
            {
                if (locator.PlatformCode != code || locator.DataLength == 0)
                    continue;
                var text = ReadLocator(file, locator);
                if (text.Length == 0)
                    continue;
                var unixPath = text.Replace('\\', '/');
                if (code == ParentLocator.W2ru)
                {
                    if (unixPath.StartsWith("./", StringComparison.Ordinal))
                        unixPath = unixPath[2..];
                    candidates.Add(System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, unixPath)));
                }
                else if (unixPath.StartsWith('/'))
                {
                    candidates.Add(System.IO.Path.GetFullPath(unixPath));
                }
                else
                {
                    // A Windows absolute path (C:\images\base.vhd): try it as written, and its file name beside us.
                    candidates.Add(text);
                    var name = unixPath[(unixPath.LastIndexOf('/') + 1)..];
                    if (name.Length > 0)
                        candidates.Add(System.IO.Path.Combine(directory, name));
                }
            }
        }
        if (header.ParentUnicodeName.Length > 0 && header.ParentUnicodeName.IndexOfAny(['/', '\\']) < 0)
            candidates.Add(System.IO.Path.Combine(directory, header.ParentUnicodeName));

        var tried = new List<string>();
        foreach (var candidate in candidates)
        {
            if (tried.Contains(candidate, StringComparer.Ordinal))
                continue;
            tried.Add(candidate);
            if (!options.FileSystem.Exists(candidate))
                continue;
            var parent = DiskImage.OpenParent(candidate, options, depth + 1, chain);
            try
            {
                CheckParent(childPath, header, parent, options, layout);
                return parent;
            }
            catch
            {
                parent.Dispose();
                throw;
            }
        }
        throw new DiskFormatException(childPath,
            $"the parent '{header.ParentUnicodeName}' was not found; tried: {(tried.Count == 0 ? "(no parent locators)" : string.Join(", ", tried))}");
    }

    private static string ReadLocator(IImageFile file, ParentLocator locator)
    {
        // The layout checked offset + length against the file and capped the length, so this allocation is bounded.
        var bytes = new byte[locator.DataLength];
        var read = file.ReadAt((long)locator.DataOffset, bytes);
        return Encoding.Unicode.GetString(bytes, 0, read - read % 2).TrimEnd('\0');
    }

    private static void CheckParent(string childPath, VhdDynamicHeader header, VirtualDisk parent, DiskOpenOptions options, VhdLayout layout)
    {
        if (parent is not VhdDisk vhd)
            throw new DiskFormatException(childPath, $"the parent {parent.Path} is a {parent.Format} image; a VHD child needs a VHD parent");
        if (parent.Length != (long)layout.Footer.CurrentSize)
            throw new DiskFormatException(childPath,
                $"the parent {parent.Path} is {parent.Length} bytes but this child is {layout.Footer.CurrentSize}: not its parent");
        if (options.CheckParentIdentity && !vhd.UniqueId.SequenceEqual(header.ParentUniqueId))
            throw new DiskFormatException(childPath,
                $"the parent {parent.Path} has unique id {Convert.ToHexString(vhd.UniqueId)} but this child was made from " +
                $"{Convert.ToHexString(header.ParentUniqueId)}: the parent was replaced or modified since the child was created", 512 + 0x28);
    }

    /// <summary>
    /// Consistency problems of this file, read afresh: checksums of both footers and the header, the footer copy,
    /// BAT entries beyond the end or overlapping each other or the metadata. Reading only; nothing is repaired.
    /// </summary>
    public override IReadOnlyList<string> Check()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var sink = new VhdLayout.Sink(Path, collect: true);
        var layout = VhdLayout.Load(file, sink);
        var problems = new List<string>(sink.Problems);
        if (layout is not null)
            problems.AddRange(layout.Warnings);
        return problems;
    }
}
