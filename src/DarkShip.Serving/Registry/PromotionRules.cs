using System.Globalization;

namespace DarkShip.Serving.Registry;

/// <summary>
/// The rules PromoteModels applies to one model, kept as plain values in the registry (the
/// <c>Models</c> table, row <c>{model}/~rules</c>) so operators change them without a deploy:
/// <c>darkship models rules fraud --set minSamples=5000</c>. A value not stored takes its default.
/// </summary>
public sealed record PromotionRules
{
    /// <summary>The rules every model starts with.</summary>
    public static readonly PromotionRules Default = new();

    /// <summary>Whether PromoteModels moves this model at all (<c>enabled</c>, default true). Guardrail rollbacks stop too when false.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>The shadow shares a challenger climbs, in percent (<c>shadowRamp</c>, default 1,10,100).</summary>
    public IReadOnlyList<double> ShadowRamp { get; init; } = [1, 10, 100];

    /// <summary>Samples a shadow step needs before the next step (and at 100 % before the experiment) (<c>minSamples</c>, default 1000).</summary>
    public long MinSamples { get; init; } = 1000;

    /// <summary>Highest tolerated share of failed scorings: throws, NaN, over budget (<c>maxErrorRate</c>, default 0.01).</summary>
    public double MaxErrorRate { get; init; } = 0.01;

    /// <summary>Highest tolerated 99th-percentile latency in ms (<c>maxP99LatencyMs</c>, default 100): scoring time in the shadow, request time live.</summary>
    public double MaxP99LatencyMs { get; init; } = 100;

    /// <summary>
    /// Highest tolerated population stability index between the challenger's predictions and the
    /// champion's on the same requests (<c>maxPredictionPsi</c>, default 0.25: "significant shift").
    /// </summary>
    public double MaxPredictionPsi { get; init; } = 0.25;

    /// <summary>The live share an experiment starts with, in percent (<c>experimentShare</c>, default 10).</summary>
    public double ExperimentShare { get; init; } = 10;

    /// <summary>Samples an experiment or a fresh champion needs before a guardrail may roll it back (<c>minGuardrailSamples</c>, default 200).</summary>
    public long MinGuardrailSamples { get; init; } = 200;

    /// <summary>How long a new champion stays under its guardrails, in hours (<c>probationHours</c>, default 24).</summary>
    public double ProbationHours { get; init; } = 24;

    /// <summary>
    /// The experiment test's false-decision rate (<c>alpha</c>, default 0.05): the chance that an
    /// experiment with no real difference ends in a promotion or a rollback, however often it is checked.
    /// </summary>
    public double Alpha { get; init; } = 0.05;

    /// <summary>Labelled predictions each experiment arm needs before the test may decide (<c>minOutcomes</c>, default 500).</summary>
    public long MinOutcomes { get; init; } = 500;

    /// <summary>The relative improvement of the promotion metric the test is tuned to detect (<c>minEffect</c>, default 0.05 = 5 %); smaller effects are found too, with more outcomes.</summary>
    public double MinEffect { get; init; } = 0.05;

    /// <summary>Guardrail on outcomes: how far the challenger's ROC AUC may fall below the champion's for a promotion to go ahead (<c>maxAucDrop</c>, default 0.02).</summary>
    public double MaxAucDrop { get; init; } = 0.02;

    /// <summary>The registry row's ETag when read; changes go through <c>If-Match</c>.</summary>
    public string? ETag { get; init; }

    /// <summary>The rule names as stored and set.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["enabled", "shadowRamp", "minSamples", "maxErrorRate", "maxP99LatencyMs", "maxPredictionPsi", "experimentShare", "minGuardrailSamples", "probationHours", "alpha", "minOutcomes", "minEffect", "maxAucDrop"];

    /// <summary>Every rule as its stored text.</summary>
    public IReadOnlyDictionary<string, string> ToValues() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["enabled"] = Enabled ? "true" : "false",
        ["shadowRamp"] = string.Join(",", ShadowRamp.Select(s => s.ToString(CultureInfo.InvariantCulture))),
        ["minSamples"] = MinSamples.ToString(CultureInfo.InvariantCulture),
        ["maxErrorRate"] = MaxErrorRate.ToString(CultureInfo.InvariantCulture),
        ["maxP99LatencyMs"] = MaxP99LatencyMs.ToString(CultureInfo.InvariantCulture),
        ["maxPredictionPsi"] = MaxPredictionPsi.ToString(CultureInfo.InvariantCulture),
        ["experimentShare"] = ExperimentShare.ToString(CultureInfo.InvariantCulture),
        ["minGuardrailSamples"] = MinGuardrailSamples.ToString(CultureInfo.InvariantCulture),
        ["probationHours"] = ProbationHours.ToString(CultureInfo.InvariantCulture),
        ["alpha"] = Alpha.ToString(CultureInfo.InvariantCulture),
        ["minOutcomes"] = MinOutcomes.ToString(CultureInfo.InvariantCulture),
        ["minEffect"] = MinEffect.ToString(CultureInfo.InvariantCulture),
        ["maxAucDrop"] = MaxAucDrop.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Rules from stored values; a name not given keeps its default.</summary>
    /// <exception cref="FormatException">A name is unknown or a value is out of range; the message says which.</exception>
    public static PromotionRules Parse(IEnumerable<KeyValuePair<string, string>> values, string? etag = null) =>
        values.Aggregate(Default with { ETag = etag }, (rules, v) => rules.With(v.Key, v.Value));

    /// <summary>These rules with one changed, given as <c>name=value</c> (how operators write it: <c>minSamples=5000</c>).</summary>
    /// <exception cref="FormatException">It is not <c>name=value</c>, the name is unknown or the value is out of range.</exception>
    public PromotionRules With(string assignment)
    {
        var at = assignment.IndexOf('=', StringComparison.Ordinal);
        return at <= 0
            ? throw new FormatException($"'{assignment}' is not rule=value.")
            : With(assignment[..at].Trim(), assignment[(at + 1)..]);
    }

    /// <summary>These rules with one changed.</summary>
    /// <exception cref="FormatException">The name is unknown or the value is out of range.</exception>
    public PromotionRules With(string name, string value)
    {
        value = value.Trim();
        return name switch
        {
            "enabled" => this with { Enabled = bool.TryParse(value, out var b) ? b : throw Bad(name, value, "true or false") },
            "shadowRamp" => this with { ShadowRamp = Ramp(value) },
            "minSamples" => this with { MinSamples = Count(name, value) },
            "maxErrorRate" => this with { MaxErrorRate = Number(name, value, 0, 1) },
            "maxP99LatencyMs" => this with { MaxP99LatencyMs = Number(name, value, 0, 600_000) },
            "maxPredictionPsi" => this with { MaxPredictionPsi = Number(name, value, 0, 100) },
            "experimentShare" => this with { ExperimentShare = Share(name, value, allowHundred: false) },
            "minGuardrailSamples" => this with { MinGuardrailSamples = Count(name, value) },
            "probationHours" => this with { ProbationHours = Number(name, value, 0, 24 * 365) },
            "alpha" => this with { Alpha = Number(name, value, 1e-6, 0.5) },
            "minOutcomes" => this with { MinOutcomes = Count(name, value) },
            "minEffect" => this with { MinEffect = Number(name, value, 1e-4, 1) },
            "maxAucDrop" => this with { MaxAucDrop = Number(name, value, 0, 1) },
            _ => throw new FormatException($"'{name}' is not a promotion rule; the rules are {string.Join(", ", Names)}."),
        };
    }

    private static List<double> Ramp(string value)
    {
        var steps = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s => Share("shadowRamp", s, allowHundred: true)).ToList();
        if (steps.Count == 0 || steps.Zip(steps.Skip(1)).Any(p => p.Second <= p.First) || steps[^1] != 100)
        {
            throw Bad("shadowRamp", value, "increasing shares in percent ending at 100, e.g. 1,10,100");
        }

        return steps;
    }

    private static double Share(string name, string value, bool allowHundred) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0 && (d < 100 || (allowHundred && d == 100))
            ? d
            : throw Bad(name, value, allowHundred ? "a share above 0 and at most 100" : "a share above 0 and below 100");

    private static long Count(string name, string value) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 1 ? n : throw Bad(name, value, "a whole number of at least 1");

    private static double Number(string name, string value, double min, double max) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= min && d <= max
            ? d
            : throw Bad(name, value, $"a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");

    private static FormatException Bad(string name, string value, string expected) => new($"'{name}' must be {expected}, not '{value}'.");
}
