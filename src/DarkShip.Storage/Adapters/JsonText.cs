using System.Text;
using System.Text.Json;

namespace DarkShip.Storage.Adapters;

/// <summary>JSON written by hand (no reflection-based serializer in the trimmed app) into a string property.</summary>
internal static class JsonText
{
    /// <summary>What <paramref name="write"/> writes, as a string.</summary>
    public static string Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
