namespace DarkShip.Scoring;

/// <summary>A model file that is malformed, truncated, inconsistent or uses something DarkShip does not support.</summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException(string message)
        : base(message)
    {
    }

    public ModelFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ModelFormatException()
    {
    }
}
