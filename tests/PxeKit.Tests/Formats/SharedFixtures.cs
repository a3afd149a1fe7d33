namespace PxeKit.Tests.Formats;

/// <summary>
/// Finds the shared fixtures (real files written by Windows; provenance in shared/specs/bcd.md §9). CI clones
/// the repository with shared/ beside it, developers have it one level up: walk up from the test binary until
/// a directory has shared/fixtures, or a sibling ../shared/fixtures.
/// </summary>
public static class SharedFixtures
{
    public static string Directory(string kind)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared"), Path.Combine(dir.FullName, "..", "shared") })
            {
                var fixtures = Path.Combine(candidate, "fixtures", kind);
                if (System.IO.Directory.Exists(fixtures))
                    return Path.GetFullPath(fixtures);
            }
        }
        throw new DirectoryNotFoundException($"shared/fixtures/{kind} not found above {AppContext.BaseDirectory}; clone shared/ beside the repository");
    }

    public static IEnumerable<string> Files(string kind) =>
        System.IO.Directory.GetFiles(Directory(kind)).Where(f => !Path.GetFileName(f).StartsWith("README", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal);

    public static byte[] Read(string kind, string name) => File.ReadAllBytes(Path.Combine(Directory(kind), name));
}
