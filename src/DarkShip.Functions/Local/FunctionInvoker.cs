using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DarkShip.Functions.Local;

/// <summary>The outcome of one invocation, as the host would record it.</summary>
internal sealed record InvocationResult(bool Succeeded, int Status, IReadOnlyList<string> Logs);

/// <summary>
/// Sends invocations to the handler exactly as the Functions host does: <c>POST /{FunctionName}</c>
/// with <c>{"Data", "Metadata"}</c>; the invocation succeeded only on a 2xx status.
/// </summary>
internal sealed partial class FunctionInvoker(HttpClient handler, TimeProvider time, ILogger<FunctionInvoker> logger)
{
    public async Task<InvocationResult> InvokeAsync(string functionName, JsonObject data, JsonObject metadata, CancellationToken cancellationToken)
    {
        metadata["sys"] = new JsonObject
        {
            ["MethodName"] = functionName,
            ["UtcNow"] = time.GetUtcNow().ToString("O"),
            ["RandGuid"] = Guid.NewGuid().ToString(),
        };
        var payload = new JsonObject { ["Data"] = data, ["Metadata"] = metadata };
        try
        {
            using var content = new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json");
            using var response = await handler.PostAsync("/" + functionName, content, cancellationToken);
            var logs = new List<string>();
            if (response.Content.Headers.ContentType?.MediaType == "application/json")
            {
                using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
                if (body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("Logs", out var lines) && lines.ValueKind == JsonValueKind.Array)
                {
                    logs.AddRange(lines.EnumerateArray().Select(l => l.ToString()));
                }
            }

            foreach (var line in logs)
            {
                LogFunctionLine(logger, functionName, line);
            }

            var ok = response.IsSuccessStatusCode;
            if (!ok)
            {
                LogFailed(logger, functionName, (int)response.StatusCode);
            }

            return new InvocationResult(ok, (int)response.StatusCode, logs);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogUnreachable(logger, functionName, e.Message);
            return new InvocationResult(false, 0, [e.Message]);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "[{Function}] {Line}")]
    private static partial void LogFunctionLine(ILogger logger, string function, string line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Executed '{Function}' (Failed, status {Status})")]
    private static partial void LogFailed(ILogger logger, string function, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Executed '{Function}' (Failed: the handler did not answer: {Reason})")]
    private static partial void LogUnreachable(ILogger logger, string function, string reason);
}
