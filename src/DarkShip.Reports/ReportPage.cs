using System.Globalization;
using System.Net;
using System.Text;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Registry;
using DarkShip.Serving.Reports;

namespace DarkShip.Reports;

/// <summary>How the page is served.</summary>
/// <param name="RefreshSeconds">Reload the page this often (the local runner's live page); <see langword="null"/>: a file that stays as written.</param>
public sealed record ReportPageOptions(int? RefreshSeconds = null);

/// <summary>
/// A <see cref="ModelReport"/> as one self-contained HTML page: the conclusion first, then the ladder,
/// each challenger against the champion, outcomes and drift. Styles are inline and charts are inline
/// SVG (<see cref="ReportCharts"/>); there is no script and nothing is fetched, so the file opens
/// offline, and it prints a section per page.
/// </summary>
public static class ReportPage
{
    /// <summary>The page for <paramref name="report"/>.</summary>
    public static string Render(ModelReport report, ReportPageOptions? options = null)
    {
        var page = new PageWriter();
        var html = page.Html;
        Head(html, $"{report.Model}: model report", options);
        html.Append("<header id=\"conclusion\"><h1>").Append(E(report.Model)).Append("</h1>");
        html.Append("<p class=\"range\">").Append(E($"{When(report.Range.From)} to {When(report.Range.To)} (UTC), in windows of {Span(report.Range.Bucket)}; made {When(report.GeneratedAt)}")).Append("</p>");
        html.Append("<ul class=\"conclusions\">");
        foreach (var sentence in report.Conclusions)
        {
            html.Append("<li>").Append(E(sentence)).Append("</li>");
        }

        html.Append("</ul>");
        if (report.IsEmpty)
        {
            html.Append("<p class=\"empty\" id=\"empty-range\">Nothing happened in this range: no scoring, no outcome and no move on the ladder. Widen it (--from/--to, or ?hours= on the live page).</p>");
        }

        Registry(html, report);
        html.Append("</header>");
        Ladder(page, report);
        Challengers(page, report);
        Outcomes(page, report);
        Drift(page, report);
        html.Append("<footer>DarkShip model report. Charts drawn with OxyPlot and embedded as SVG; the conclusions apply PromoteModels' rules and DriftMonitor's thresholds to the same stores they read.</footer>");
        html.Append("</body></html>");
        return html.ToString();
    }

    /// <summary>A page that says plainly why there is no report (an unknown model or version, an empty range).</summary>
    public static string Problem(string title, string detail)
    {
        var html = new StringBuilder();
        Head(html, title, null);
        html.Append("<header id=\"conclusion\" class=\"problem\"><h1>").Append(E(title)).Append("</h1><p>").Append(E(detail)).Append("</p></header></body></html>");
        return html.ToString();
    }

    private static void Head(StringBuilder html, string title, ReportPageOptions? options)
    {
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        html.Append("<link rel=\"icon\" href=\"data:,\">"); // no icon: a browser would otherwise fetch /favicon.ico
        if (options?.RefreshSeconds is { } seconds)
        {
            html.Append("<meta http-equiv=\"refresh\" content=\"").Append(seconds.ToString(CultureInfo.InvariantCulture)).Append("\">");
        }

        html.Append("<title>").Append(E(title)).Append("</title><style>").Append(Style).Append("</style></head><body>");
    }

    private static void Registry(StringBuilder html, ModelReport report)
    {
        html.Append("<table class=\"registry\"><thead><tr><th>version</th><th>stage</th><th>share</th><th>since</th><th>registered</th></tr></thead><tbody>");
        foreach (var v in report.Versions.OrderByDescending(v => v.IsLive).ThenByDescending(v => v.ChangedAt))
        {
            html.Append("<tr class=\"").Append(v.IsLive ? "live" : "off").Append("\"><td>v").Append(E(v.Version)).Append("</td><td>").Append(E(v.Stage.ToString().ToLowerInvariant()))
                .Append("</td><td>").Append(v.Stage is ModelStage.Shadow or ModelStage.Experiment ? N(v.SharePercent) + " %" : "").Append("</td><td>").Append(E(When(v.ChangedAt)))
                .Append("</td><td>").Append(E(When(v.RegisteredAt))).Append("</td></tr>");
        }

        html.Append("</tbody></table>");
    }

    private static void Ladder(PageWriter page, ModelReport report)
    {
        var html = page.Html;
        html.Append("<section id=\"ladder\"><h2>The ladder</h2>");
        if (report.Ladder.Count == 0)
        {
            html.Append("<p class=\"empty\">No move on the ladder in this range.</p></section>");
            return;
        }

        page.Figure(ReportCharts.Ladder(report), "ladder");
        html.Append("<table><thead><tr><th>when</th><th>version</th><th>move</th><th>by</th><th>why</th><th>evidence</th></tr></thead><tbody>");
        foreach (var e in report.Ladder)
        {
            html.Append("<tr><td>").Append(E(When(e.At))).Append("</td><td>v").Append(E(e.Version)).Append("</td><td>")
                .Append(E($"{e.Action}: {Stage(e.From, e.FromShare)} → {Stage(e.To, e.ToShare)}")).Append("</td><td>").Append(E(e.Actor)).Append("</td><td>").Append(E(e.Reason)).Append("</td><td>");
            if (e.Evidence.Count > 0)
            {
                html.Append("<details><summary>").Append(e.Evidence.Count.ToString(CultureInfo.InvariantCulture)).Append(" figures</summary><dl>");
                foreach (var (name, value) in e.Evidence.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    html.Append("<dt>").Append(E(name)).Append("</dt><dd>").Append(E(value)).Append("</dd>");
                }

                html.Append("</dl></details>");
            }

            html.Append("</td></tr>");
        }

        html.Append("</tbody></table></section>");
    }

    private static void Challengers(PageWriter page, ModelReport report)
    {
        var html = page.Html;
        html.Append("<section id=\"shadow\"><h2>Challengers against the champion, on the same requests</h2>");
        var shown = report.Challengers.Where(c => c.Windows.Count > 0).ToList();
        if (shown.Count == 0)
        {
            html.Append("<p class=\"empty\">").Append(report.Challengers.Count == 0 ? "No live challenger, or no champion to compare one with." : "No challenger scored any request in this range.").Append("</p></section>");
            return;
        }

        foreach (var c in shown)
        {
            var s = c.Overall;
            html.Append("<article class=\"challenger\" data-version=\"").Append(E(c.Challenger.Version)).Append("\"><h3>v").Append(E(c.Challenger.Version)).Append(" (")
                .Append(E(Stage(c.Challenger.Stage, c.Challenger.SharePercent))).Append(") against champion v").Append(E(c.ChampionVersion)).Append("</h3>");
            html.Append("<dl class=\"figures\">");
            Number(html, "pairs", s.Pairs.ToString("N0", CultureInfo.InvariantCulture));
            Number(html, "agreement at the threshold", Percent(s.Agreement));
            Number(html, "rank correlation", N(s.RankCorrelation));
            Number(html, "mean delta", N(s.MeanDelta));
            Number(html, "prediction PSI vs champion", N(s.PredictionPsi));
            Number(html, "error rate", Percent(s.ErrorRate));
            Number(html, "p50 / p99 ms", $"{N(s.P50LatencyMs)} / {N(s.P99LatencyMs)}");
            html.Append("</dl><div class=\"charts\">");
            if (s.Pairs > 0)
            {
                page.Figure(ReportCharts.Overlaid(c), "overlaid");
                page.Figure(ReportCharts.Delta(c), "delta");
            }

            page.Figure(ReportCharts.Latency(c, report), "latency");
            page.Figure(ReportCharts.Errors(c, report), "errors");
            if (s.Pairs > 0)
            {
                page.Figure(ReportCharts.Agreement(c, report), "agreement");
            }

            html.Append("</div></article>");
        }

        html.Append("</section>");
    }

    private static void Outcomes(PageWriter page, ModelReport report)
    {
        var html = page.Html;
        html.Append("<section id=\"outcomes\"><h2>Outcomes</h2>");
        if (report.Outcomes.Count == 0)
        {
            html.Append("<p class=\"empty\">No labelled prediction in this range (POST /api/outcomes; JoinOutcomes joins them to the model log).</p></section>");
            return;
        }

        html.Append("<table><thead><tr><th>version</th><th>stage</th><th>outcomes</th><th>log loss</th><th>AUC</th><th>Brier</th><th>MAE</th><th>RMSE</th><th>paired: champion loss − this</th></tr></thead><tbody>");
        foreach (var o in report.Outcomes)
        {
            var m = o.Overall.Metrics;
            html.Append("<tr><td>v").Append(E(o.Version)).Append("</td><td>").Append(E(o.Stage.ToLowerInvariant())).Append("</td><td>").Append(m.Count.ToString("N0", CultureInfo.InvariantCulture))
                .Append("</td><td>").Append(N(m.LogLoss)).Append("</td><td>").Append(N(m.Auc)).Append("</td><td>").Append(N(m.Brier)).Append("</td><td>").Append(N(m.Mae)).Append("</td><td>").Append(N(m.Rmse))
                .Append("</td><td>").Append(o.Overall.Paired is { } p ? E($"{N(p.Difference)} ± {N(p.StandardError)} on {p.Pairs:N0}") : "").Append("</td></tr>");
        }

        html.Append("</tbody></table><div class=\"charts\">");
        var probability = report.Outcomes.Any(o => !double.IsNaN(o.Overall.Metrics.LogLoss));
        if (probability)
        {
            page.Figure(ReportCharts.MetricPerWindow(report, "Log loss", m => m.LogLoss), "logloss");
            page.Figure(ReportCharts.MetricPerWindow(report, "ROC AUC", m => m.Auc), "auc");
        }
        else
        {
            page.Figure(ReportCharts.MetricPerWindow(report, "MAE", m => m.Mae), "mae");
            page.Figure(ReportCharts.MetricPerWindow(report, "RMSE", m => m.Rmse), "rmse");
        }

        var index = 0;
        foreach (var o in report.Outcomes)
        {
            if (o.Overall.Metrics.Calibration.Count > 0)
            {
                page.Figure(ReportCharts.Calibration(o, index), "calibration");
            }

            index++;
        }

        foreach (var o in report.Outcomes.Where(o => o.Sequential is { Points.Count: > 0 }))
        {
            page.Figure(ReportCharts.Sequential(o, report), "sequential");
        }

        html.Append("</div>");
        foreach (var o in report.Outcomes.Where(o => o.Sequential is not null))
        {
            html.Append("<p class=\"test\">v").Append(E(o.Version)).Append(": ").Append(E(o.Sequential!.Latest.Summary)).Append(" (").Append(E(o.Sequential.Basis)).Append(").</p>");
        }

        html.Append("</section>");
    }

    private static void Drift(PageWriter page, ModelReport report)
    {
        var html = page.Html;
        html.Append("<section id=\"drift\"><h2>Drift</h2>");
        var shown = report.Drift.Where(d => d.Windows.Any(w => w.Samples > 0)).ToList();
        if (shown.Count == 0)
        {
            html.Append("<p class=\"empty\">No scoring in this range to measure drift on.</p></section>");
            return;
        }

        foreach (var d in shown)
        {
            html.Append("<article class=\"drift\" data-version=\"").Append(E(d.Version)).Append("\"><h3>v").Append(E(d.Version)).Append(" (").Append(E(d.Stage.ToLowerInvariant())).Append(")</h3><div class=\"charts\">");
            page.Figure(ReportCharts.DriftStrip(d, report), "drift-strip", ReportCharts.Width, 60 + (22 * d.Subjects.Count));
            page.Figure(ReportCharts.Rates(d, report, DriftMeasures.MissingRate, "Missing rate"), "missing");
            page.Figure(ReportCharts.Rates(d, report, DriftMeasures.StaleRate, "Stale rate"), "stale");
            html.Append("</div>");
            var last = d.Windows.LastOrDefault(w => w.Findings.Any(f => f.Status != DriftStatus.Insufficient));
            if (last is not null)
            {
                html.Append("<table><caption>").Append(E($"The last window with enough values, from {When(last.Start)}: {last.Samples:N0} scorings")).Append("</caption><thead><tr><th>subject</th><th>measure</th><th>against</th><th>status</th><th>test and value</th></tr></thead><tbody>");
                foreach (var f in last.Findings.Where(f => f.Status != DriftStatus.Insufficient).OrderByDescending(f => f.Status).ThenBy(f => f.Subject, StringComparer.Ordinal))
                {
                    html.Append("<tr class=\"").Append(f.Status.ToString().ToLowerInvariant()).Append("\"><td>").Append(E(f.Subject)).Append("</td><td>").Append(E(f.Measure)).Append("</td><td>").Append(E(f.Reference))
                        .Append("</td><td>").Append(E(f.Status.ToString().ToLowerInvariant())).Append("</td><td>").Append(E(f.Reason)).Append("</td></tr>");
                }

                html.Append("</tbody></table>");
            }

            html.Append("</article>");
        }

        html.Append("</section>");
    }

    private static void Number(StringBuilder html, string name, string value) =>
        html.Append("<div><dt>").Append(E(name)).Append("</dt><dd>").Append(E(value)).Append("</dd></div>");

    private static string Stage(ModelStage? stage, double share) => stage switch
    {
        null => "new",
        ModelStage.Shadow or ModelStage.Experiment => $"{stage.Value.ToString().ToLowerInvariant()} {N(share)} %",
        _ => stage.Value.ToString().ToLowerInvariant(),
    };

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string N(double d) => double.IsNaN(d) || double.IsInfinity(d) ? "–" : d.ToString("0.####", CultureInfo.InvariantCulture);

    private static string Percent(double d) => double.IsNaN(d) ? "–" : (d * 100).ToString("0.##", CultureInfo.InvariantCulture) + " %";

    private static string When(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static string Span(TimeSpan span) => span.TotalDays >= 1 ? $"{span.TotalDays:0.#} d" : span.TotalHours >= 1 ? $"{span.TotalHours:0.#} h" : $"{span.TotalMinutes:0} min";

    /// <summary>The page being written, and how many charts it holds so far: each chart's ids are its own.</summary>
    private sealed class PageWriter
    {
        private int charts;

        public StringBuilder Html { get; } = new(256 * 1024);

        public void Figure(OxyPlot.PlotModel chart, string kind, double width = ReportCharts.Width, double height = ReportCharts.Height)
        {
            var id = "chart" + (++charts).ToString(CultureInfo.InvariantCulture);
            Html.Append("<figure class=\"chart ").Append(kind).Append("\" id=\"").Append(id).Append("\">").Append(ReportCharts.Svg(chart, id, width, height)).Append("</figure>");
        }
    }

    private const string Style = """
        :root { color-scheme: light; }
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1320px; padding: 16px 24px; color: #1d1d1f; }
        h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; } h3 { font-size: 15px; margin: 16px 0 6px; }
        .range { color: #555; margin: 0 0 8px; }
        .conclusions { font-size: 16px; background: #f4f7fb; border-left: 4px solid #1f4e9c; padding: 10px 12px 10px 30px; margin: 8px 0 14px; }
        .problem p { font-size: 16px; }
        .empty { color: #666; font-style: italic; }
        table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; }
        th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid #eee; vertical-align: top; }
        th { color: #555; font-weight: 600; } caption { text-align: left; color: #555; padding-bottom: 4px; }
        tr.off td { color: #888; } tr.alert td { color: #a11; } tr.warn td { color: #8a6100; }
        details summary { cursor: pointer; color: #1f4e9c; } dl { margin: 4px 0; } dt { font-weight: 600; } dd { margin: 0 0 2px 12px; }
        dl.figures { display: flex; flex-wrap: wrap; gap: 6px 22px; } dl.figures dd { margin: 0; font-size: 16px; }
        .charts { display: flex; flex-wrap: wrap; gap: 8px 16px; }
        figure.chart { margin: 0; } figure.chart svg { max-width: 100%; height: auto; }
        footer { margin-top: 32px; color: #777; font-size: 12px; }
        @media print { body { max-width: none; padding: 0; } figure.chart, tr, dl.figures, .conclusions { break-inside: avoid; } h2, h3 { break-after: avoid; } details { display: none; } }
        """;
}
