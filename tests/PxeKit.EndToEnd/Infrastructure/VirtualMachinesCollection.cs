namespace PxeKit.EndToEnd.Infrastructure;

/// <summary>
/// Every test class that starts a <see cref="QemuMachine"/> joins this collection: TCG is CPU-bound and the CI machine
/// has two cores, so virtual machines run one at a time, never beside another collection's tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class VirtualMachinesCollection
{
    public const string Name = "Virtual machines";
}
