namespace PxeKit.Formats.Registry;

/// <summary>
/// Registry value types (winnt.h REG_*). A hive may carry any 32-bit type; unknown ones are kept as numbers
/// and written back unchanged.
/// </summary>
public enum RegistryValueType : uint
{
    None = 0,
    String = 1,
    ExpandString = 2,
    Binary = 3,
    DWord = 4,
    DWordBigEndian = 5,
    Link = 6,
    MultiString = 7,
    ResourceList = 8,
    FullResourceDescriptor = 9,
    ResourceRequirementsList = 10,
    QWord = 11,
}
