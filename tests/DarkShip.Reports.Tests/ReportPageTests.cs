using System.Text.RegularExpressions;
using System.Xml.Linq;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Registry;
using DarkShip.Serving.Reports;

namespace DarkShip.Reports.Tests;

public sealed partial class ReportPageTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 14, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_page_is_one_self_contained_file_no_script_nothing_fetched()
    {
        var html = ReportPage.Render(Full());

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(["<link rel=\"icon\" href=\"data:,\">"], Link().Matches(html).Select(m => m.Value)); // an empty icon, so a browser fetches none
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(NonFragmentUrl().Matches(html)); // only references within the page (an SVG's clip path)
        Assert.Empty(ExternalReference().Matches(html));
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_section_is_there_and_each_chart_is_well_formed_svg_that_draws_something()
    {
        var html = ReportPage.Render(Full());

        foreach (var section in new[] { "conclusion", "ladder", "shadow", "outcomes", "drift" })
        {
            Assert.Contains($"id=\"{section}\"", html, StringComparison.Ordinal);
        }

        var charts = Chart().Matches(html).Select(m => (Kind: m.Groups[1].Value, Svg: XElement.Parse(m.Groups[2].Value))).ToList();
        Assert.Equal(["ladder", "overlaid", "delta", "latency", "errors", "agreement", "logloss", "auc", "calibration", "calibration", "sequential", "drift-strip", "missing", "stale", "drift-strip", "missing", "stale"],
            charts.Select(c => c.Kind));
        var ids = IdAttribute().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(ids.Distinct().Count(), ids.Count); // inline SVGs share the page's ids: no chart may clip to another's path
        Assert.All(Reference().Matches(html), m => Assert.Contains(m.Groups[1].Value, ids));
        Assert.All(charts, c =>
        {
            Assert.Equal("svg", c.Svg.Name.LocalName);
            Assert.True(c.Svg.Descendants().Count(e => e.Name.LocalName is "path" or "polyline" or "polygon" or "rect" or "line") > 10, c.Kind + " draws almost nothing");
        });
    }

    [Fact]
    public void The_conclusions_lead_and_every_text_from_the_stores_is_escaped()
    {
        var report = Full() with { Conclusions = ["v2 holds at shadow 10 %: <b>420</b> of 1000 samples & counting."] };

        var html = ReportPage.Render(report);

        Assert.Contains("<ul class=\"conclusions\"><li>v2 holds at shadow 10 %: &lt;b&gt;420&lt;/b&gt; of 1000 samples &amp; counting.</li></ul>", html, StringComparison.Ordinal);
        Assert.Contains("rolled &lt;back&gt; by &quot;ops&quot;", html, StringComparison.Ordinal);
        Assert.True(html.IndexOf("class=\"conclusions\"", StringComparison.Ordinal) < html.IndexOf("id=\"ladder\"", StringComparison.Ordinal));
    }

    [Fact]
    public void A_range_where_nothing_happened_says_so_and_draws_no_empty_chart()
    {
        var full = Full();
        var report = full with
        {
            Ladder = [], Outcomes = [],
            Challengers = [.. full.Challengers.Select(c => c with { Windows = [] })],
            Drift = [.. full.Drift.Select(d => d with { Windows = [.. d.Windows.Select(w => w with { Samples = 0 })] })],
        };

        var html = ReportPage.Render(report);

        Assert.True(report.IsEmpty);
        Assert.Contains("Nothing happened in this range", html, StringComparison.Ordinal);
        Assert.Contains("No move on the ladder in this range.", html, StringComparison.Ordinal);
        Assert.Contains("No challenger scored any request in this range.", html, StringComparison.Ordinal);
        Assert.Contains("No labelled prediction in this range", html, StringComparison.Ordinal);
        Assert.Contains("No scoring in this range to measure drift on.", html, StringComparison.Ordinal);
        Assert.Empty(Chart().Matches(html));
    }

    [Fact]
    public void A_problem_page_says_what_is_wrong_in_words_and_the_live_page_reloads_itself()
    {
        var problem = ReportPage.Problem("No such model", "No versions of 'fraud<x>' are registered.");
        var live = ReportPage.Render(Full(), new ReportPageOptions(RefreshSeconds: 30));

        Assert.Contains("<h1>No such model</h1><p>No versions of &#39;fraud&lt;x&gt;&#39; are registered.</p>", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", problem, StringComparison.Ordinal);
        Assert.Contains("<meta http-equiv=\"refresh\" content=\"30\">", live, StringComparison.Ordinal);
        Assert.DoesNotContain("http-equiv=\"refresh\"", ReportPage.Render(Full()), StringComparison.Ordinal);
    }

    [Fact]
    public void The_ladder_chart_puts_each_move_on_its_rung()
    {
        Assert.Equal(1.1, ReportCharts.Rung(ModelStage.Shadow, 10), 12);
        Assert.Equal(2.0, ReportCharts.Rung(ModelStage.Shadow, 100), 12);
        Assert.Equal(3.0, ReportCharts.Rung(ModelStage.Experiment, 10), 12);
        Assert.Equal(4.0, ReportCharts.Rung(ModelStage.Champion, 0), 12);
        Assert.Equal(0.0, ReportCharts.Rung(ModelStage.RolledBack, 0), 12);
        Assert.Equal(0.0, ReportCharts.Rung(null, 0), 12);
    }

    [GeneratedRegex("""(?:src|href)\s*=\s*["']?(?:https?:|//)""", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();

    [GeneratedRegex("<link[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex Link();

    [GeneratedRegex("""url\((?!#)""", RegexOptions.IgnoreCase)]
    private static partial Regex NonFragmentUrl();

    [GeneratedRegex("""<figure class="chart ([a-z-]+)" id="[a-z0-9]+">(<svg.*?</svg>)</figure>""", RegexOptions.Singleline)]
    private static partial Regex Chart();

    [GeneratedRegex(@"\sid=""([^""]+)""")]
    private static partial Regex IdAttribute();

    [GeneratedRegex("""url\(#([^)]+)\)""")]
    private static partial Regex Reference();

    /// <summary>A report with every section filled: champion 1, shadow 2 at 10 %, six 5-minute buckets.</summary>
    private static ModelReport Full()
    {
        var range = ReportRange.Of(Now.AddMinutes(-30), Now)!;
        var champion = new ModelVersion("fraud", "1", ModelStage.Champion, 100, "a", "b", "c", "d", Now.AddDays(-3)) { ChangedAt = Now.AddDays(-2) };
        var shadow = new ModelVersion("fraud", "2", ModelStage.Shadow, 10, "a", "b", "c", "d", Now.AddHours(-1)) { ChangedAt = Now.AddMinutes(-20) };
        var buckets = Enumerable.Range(0, 6).Select(i => range.From + (range.Bucket * i)).ToList();
        var random = new Random(3);
        var windows = buckets.Select(b => new ComparisonWindow(b, Stats(random, true), Stats(random, false))).ToList();
        var comparison = new ChallengerComparison(shadow, "1", Stats(random, true), Filled(Histogram.ProbabilityEdges, random), Filled(Histogram.ProbabilityEdges, random),
            Filled(Histogram.DeltaEdges, random), 0.5, windows);
        var outcomes = new[] { "1", "2" }.Select(v => new VersionOutcomes(v, v == "1" ? "Champion" : "Shadow",
            [.. buckets.Select(b => new WindowMetrics(v, "x", b, Metrics(random), null))],
            new WindowMetrics(v, "x", null, Metrics(random), v == "2" ? new PairedComparison("1", 900, 0.2, 0.25, 0.05, 0.01) : null),
            v == "2" ? new SequentialTrace("paired shadow requests", "logloss", Math.Log(20), [.. buckets.Select((b, i) => new SequentialPoint(b + range.Bucket, 100 * i, 100 * i, i * 0.7))],
                new SequentialResult(ExperimentDecision.ChallengerBetter, 0.05, 0.01, 3.5, Math.Log(20), "mean loss 0.2 vs 0.25")) : null)).ToList();
        var subjects = new[] { "prediction", "amount", "hour_of_day" };
        var drift = new[] { "1", "2" }.Select(v => new VersionDrift(v, v == "1" ? "Champion" : "Shadow", subjects,
            [.. buckets.Select((b, i) => new DriftWindow(b, 400, [.. subjects.SelectMany(s => Findings(s, i))]))])).ToList();
        var ladder = new[]
        {
            new ModelEvent("fraud", "2", Now.AddMinutes(-25), "ops@example.com", "shadow", ModelStage.Registered, ModelStage.Shadow, 0, 1, "by hand", new Dictionary<string, string>()),
            new ModelEvent("fraud", "2", Now.AddMinutes(-20), "PromoteModels", "shadow", ModelStage.Shadow, ModelStage.Shadow, 1, 10, "rolled <back> by \"ops\"",
                new Dictionary<string, string> { ["samples"] = "1000", ["errorRate"] = "0" }),
        };
        return new ModelReport("fraud", range, Now, [champion, shadow], PromotionRules.Default, ["v1 is the champion.", "v2 holds at shadow 10 %."], ladder, [comparison], outcomes, drift, new DriftOptions());
    }

    private static ModelStats Stats(Random r, bool paired) =>
        new(1000, 3, 1, 0, 2 + r.Next(3), 20 + r.Next(30), paired ? 900 : 0, paired ? 0.9 + (r.NextDouble() / 10) : double.NaN, 0.01, 0.05, paired ? 0.8 + (r.NextDouble() / 10) : double.NaN);

    private static Histogram Filled(double[] edges, Random r) => new(edges, [.. Enumerable.Range(0, edges.Length + 1).Select(_ => (long)r.Next(1, 100))], 0);

    private static OutcomeMetrics Metrics(Random r) =>
        new(300, 30, 0.2 + (r.NextDouble() / 10), 0.05, 0.8 + (r.NextDouble() / 10), 0.5, 0.5, double.NaN, double.NaN, double.NaN,
            [.. Enumerable.Range(0, 10).Select(i => new CalibrationBin(i / 10.0, (i + 1) / 10.0, 30, (i + 0.5) / 10, Math.Clamp(((i + 0.5) / 10) + ((r.NextDouble() - 0.5) / 10), 0, 1)))]);

    private static IEnumerable<DriftFinding> Findings(string subject, int bucket)
    {
        var psi = subject == "amount" ? 0.05 * bucket : 0.02;
        var status = psi >= 0.25 ? DriftStatus.Alert : psi >= 0.1 ? DriftStatus.Warn : DriftStatus.Ok;
        yield return new DriftFinding(subject, DriftMeasures.Distribution, "baseline", "numeric", 400, 4000, psi, 0.1, 0.1, 0.5, 0.1, double.NaN, double.NaN, double.NaN, double.NaN, status, $"PSI {psi}");
        if (subject != "prediction")
        {
            yield return new DriftFinding(subject, DriftMeasures.MissingRate, "baseline", "rate", 400, 4000, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0.01 * bucket, 0, DriftStatus.Ok, "missing");
            yield return new DriftFinding(subject, DriftMeasures.StaleRate, "previous", "rate", 400, 400, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0.02, 0.02, DriftStatus.Ok, "stale");
        }
    }
}
