using System.Text.Json.Serialization;

namespace DarkShip.Functions.Protocol;

/// <summary>
/// What a handler answers to an invocation: output bindings, log lines the host writes to its
/// own log, and the return value. The status code says whether the invocation succeeded.
/// </summary>
internal sealed class InvocationResponse
{
    [JsonPropertyName("Outputs")]
    public Dictionary<string, object?> Outputs { get; init; } = [];

    [JsonPropertyName("Logs")]
    public List<string> Logs { get; init; } = [];

    [JsonPropertyName("ReturnValue")]
    public object? ReturnValue { get; init; }
}
