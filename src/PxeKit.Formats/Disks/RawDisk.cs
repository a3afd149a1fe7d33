namespace PxeKit.Formats.Disks;

// PLACEHOLDER: replaced by the raw implementation.
public sealed class RawDisk
{
    internal static VirtualDisk Open(IImageFile file) => throw new NotImplementedException();
    internal static VirtualDisk Create(IImageFileSystem fileSystem, string path, long size) => throw new NotImplementedException();
}
