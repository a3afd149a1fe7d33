namespace PxeKit.Formats.Bcd;

/// <summary>
/// A BCD-level mistake: a store without the BCD layout, an unknown element name, a value that does not fit
/// the element's format. The message is one sentence meant for the user.
/// </summary>
public sealed class BcdException : Exception
{
    public BcdException()
    {
    }

    public BcdException(string message)
        : base(message)
    {
    }

    public BcdException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
