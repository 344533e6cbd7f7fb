using System.Text.Json.Nodes;

namespace DarkShip.Functions.Definitions;

/// <summary>A trigger, as the Functions host's function.json describes it.</summary>
internal abstract record Trigger(string BindingName)
{
    public abstract JsonObject ToBinding();
}

/// <summary>An HTTP function; the host proxies matching requests to <c>/api/{Route}</c> on the handler.</summary>
internal sealed record HttpTrigger(string Route, string[] Methods, string AuthLevel = "function") : Trigger("req")
{
    public override JsonObject ToBinding() => new()
    {
        ["type"] = "httpTrigger",
        ["direction"] = "in",
        ["name"] = BindingName,
        ["authLevel"] = AuthLevel,
        ["methods"] = new JsonArray([.. Methods.Select(m => JsonValue.Create(m))]),
        ["route"] = Route,
    };
}

/// <summary>A batch (<c>cardinality: many</c>) Event Hubs trigger; names in <c>%…%</c> are app settings.</summary>
internal sealed record EventHubTrigger(string EventHubName, string Connection, string ConsumerGroup) : Trigger("events")
{
    public override JsonObject ToBinding() => new()
    {
        ["type"] = "eventHubTrigger",
        ["direction"] = "in",
        ["name"] = BindingName,
        ["eventHubName"] = EventHubName,
        ["connection"] = Connection,
        ["consumerGroup"] = ConsumerGroup,
        ["cardinality"] = "many",
        ["dataType"] = "string",
    };
}

/// <summary>A timer on an NCRONTAB schedule (six fields, seconds first), usually <c>%SettingName%</c>.</summary>
internal sealed record TimerTrigger(string Schedule) : Trigger("timer")
{
    public override JsonObject ToBinding() => new()
    {
        ["type"] = "timerTrigger",
        ["direction"] = "in",
        ["name"] = BindingName,
        ["schedule"] = Schedule,
        ["runOnStartup"] = false,
        ["useMonitor"] = true,
    };
}

/// <summary>The host's retry policy for a trigger (function.json <c>retry</c>).</summary>
internal sealed record RetryPolicy(int MaxRetryCount, TimeSpan MinimumInterval, TimeSpan MaximumInterval)
{
    /// <summary>The wait before retry number <paramref name="attempt"/> (1-based): doubling from the minimum, capped at the maximum.</summary>
    public TimeSpan DelayBefore(int attempt) =>
        TimeSpan.FromTicks(Math.Min(MaximumInterval.Ticks, MinimumInterval.Ticks * (1L << Math.Min(attempt - 1, 30))));

    public JsonObject ToJson() => new()
    {
        ["strategy"] = "exponentialBackoff",
        ["maxRetryCount"] = MaxRetryCount,
        ["minimumInterval"] = MinimumInterval.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        ["maximumInterval"] = MaximumInterval.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>One function of the app: its name, its trigger, and the host's retry policy if any.</summary>
internal sealed record FunctionDefinition(string Name, Trigger Trigger, RetryPolicy? Retry = null)
{
    /// <summary>The function.json the host reads from <c>{Name}/function.json</c>.</summary>
    public JsonObject ToFunctionJson()
    {
        var bindings = new JsonArray(Trigger.ToBinding());
        if (Trigger is HttpTrigger)
        {
            bindings.Add((JsonNode)new JsonObject { ["type"] = "http", ["direction"] = "out", ["name"] = "res" });
        }

        var json = new JsonObject { ["bindings"] = bindings };
        if (Retry is not null)
        {
            json["retry"] = Retry.ToJson();
        }

        return json;
    }
}
