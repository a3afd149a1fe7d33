namespace PxeKit.EndToEnd;

public class Smoke
{
    [Fact]
    public void Builds() => Assert.NotNull(typeof(PxeKit.Cli.Program));
}
