namespace DarkShip.Scoring;

/// <summary>A model file that is malformed, truncated, inconsistent, uses something DarkShip does not support, or disagrees with the signature it was bound to.</summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException(string message)
        : base(message)
    {
        Problems = [message];
    }

    public ModelFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>Several problems found at once, each a line an operator can act on.</summary>
    public ModelFormatException(IReadOnlyList<string> problems)
        : base(string.Join("; ", problems))
    {
        Problems = problems;
    }

    public ModelFormatException()
    {
        Problems = [Message];
    }

    /// <summary>Every problem found (one for a file that could not be read at all).</summary>
    public IReadOnlyList<string> Problems { get; }
}
