namespace Usernet.Fuzz;

/// <summary>A target's property failed: a table past its limit, no answer to the probe, a malformed reply.</summary>
internal sealed class PropertyException(string message) : Exception(message)
{
    public static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new PropertyException(message);
        }
    }
}
