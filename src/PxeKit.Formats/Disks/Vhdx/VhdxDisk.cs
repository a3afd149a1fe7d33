namespace PxeKit.Formats.Disks.Vhdx;

// PLACEHOLDER: replaced by the VHDX implementation (fixed, dynamic, differencing).
public sealed class VhdxDisk
{
    internal static VirtualDisk Open(IImageFile file, DiskOpenOptions options, int depth, IReadOnlyList<string> chain) => throw new NotImplementedException();
    internal static VirtualDisk Create(IImageFileSystem fileSystem, string path, DiskCreateOptions create) => throw new NotImplementedException();
    internal static VirtualDisk CreateChild(IImageFileSystem fileSystem, string path, VirtualDisk parent, DiskOpenOptions options) => throw new NotImplementedException();
}
