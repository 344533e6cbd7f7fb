using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Registry;
using DarkShip.Serving.Reports;
using OxyPlot;
using OxyPlot.Annotations;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace DarkShip.Reports;

/// <summary>
/// The report's charts as OxyPlot models: the library lays out axes, ticks, legends and series, and
/// <see cref="Svg"/> exports each as inline SVG (no script, no font, nothing fetched: the page stays one
/// self-contained file that prints as it shows).
/// </summary>
internal static partial class ReportCharts
{
    public const double Width = 620;

    /// <summary>
    /// OxyPlot lays text out with Helvetica's metrics: fonts of that width, where the reader's machine has them
    /// (Arial or Helvetica; on Linux, Liberation Sans, made to Arial's metrics: Debian's fonts-liberation, which test.sh installs with Chromium).
    /// </summary>
    private const string ChartFont = "Arial, Helvetica, 'Liberation Sans', sans-serif";
    public const double Height = 250;

    public static readonly OxyColor Champion = OxyColor.FromRgb(0x1f, 0x4e, 0x9c);
    public static readonly OxyColor Challenger = OxyColor.FromRgb(0xe0, 0x6c, 0x00);
    private static readonly OxyColor Ok = OxyColor.FromRgb(0x8f, 0xd1, 0x9e);
    private static readonly OxyColor Warn = OxyColor.FromRgb(0xf5, 0xc3, 0x42);
    private static readonly OxyColor Alert = OxyColor.FromRgb(0xd6, 0x3b, 0x3b);
    private static readonly OxyColor NoData = OxyColor.FromRgb(0xe4, 0xe4, 0xe4);
    private static readonly OxyColor[] Palette =
    [
        Champion, Challenger, OxyColor.FromRgb(0x2a, 0x9d, 0x8f), OxyColor.FromRgb(0x8e, 0x44, 0xad), OxyColor.FromRgb(0x6d, 0x6d, 0x6d),
    ];

    /// <summary>
    /// The model as an inline <c>&lt;svg&gt;</c> element: without the XML declaration the exporter writes, scalable (a
    /// <c>viewBox</c>), labelled with its title, and with its clip paths' ids prefixed by <paramref name="id"/> — inline
    /// SVGs share the page's ids, and every export numbers its clip paths from 1.
    /// </summary>
    public static string Svg(PlotModel model, string id, double width = Width, double height = Height)
    {
        var svg = new SvgExporter { Width = width, Height = height, IsDocument = false }.ExportToString(model);
        svg = svg[svg.IndexOf("<svg ", StringComparison.Ordinal)..].TrimEnd();
        svg = ClipPathId().Replace(svg, id + "-clip$1");
        svg = FontSize().Replace(svg, m => string.Create(CultureInfo.InvariantCulture, $"font-size=\"{double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * PointsPerPixel:0.###}\""));
        var size = string.Create(CultureInfo.InvariantCulture, $"0 0 {width} {height}");
        return $"<svg viewBox=\"{size}\" role=\"img\" aria-label=\"{WebUtility.HtmlEncode(model.Title)}\" {svg["<svg ".Length..]}";
    }

    /// <summary>
    /// The exporter lays text out with its PDF measurer, which reads a font size in points (¾ of a pixel), but writes the
    /// same number into the SVG, where it is read in pixels: every label would overflow the room it was given by a third.
    /// The written sizes are converted, and the models' sizes are set ⅓ larger, so text shows at the intended size.
    /// </summary>
    private const double PointsPerPixel = 0.75;

    [GeneratedRegex(@"font-size=""([0-9.]+)""")]
    private static partial Regex FontSize();

    [GeneratedRegex(@"\bclipPath(\d+)\b")]
    private static partial Regex ClipPathId();

    /// <summary>Each version's rung on the ladder over the range, from the ladder's moves.</summary>
    public static PlotModel Ladder(ModelReport report)
    {
        var model = Base("Ladder", "the rung each version stood on; a marker per move");
        model.Axes.Add(TimeAxis(report.Range));
        model.Axes.Add(new LinearAxis
        {
            Position = AxisPosition.Left, Minimum = -0.2, Maximum = 4.4, MajorStep = 1, MinorStep = 1,
            LabelFormatter = rung => rung switch { 0 => "off", 1 => "shadow", 2 => "shadow 100 %", 3 => "experiment", 4 => "champion", _ => "" },
        });
        var index = 0;
        foreach (var moves in report.Ladder.GroupBy(e => e.Version))
        {
            var series = new StairStepSeries { Title = "v" + moves.Key, Color = Color(index++), MarkerType = MarkerType.Circle, MarkerSize = 4, StrokeThickness = 2 };
            var first = moves.First();
            series.Points.Add(new DataPoint(Time(report.Range.From), Rung(first.From, first.FromShare)));
            foreach (var move in moves)
            {
                series.Points.Add(new DataPoint(Time(move.At), Rung(move.To, move.ToShare)));
            }

            series.Points.Add(new DataPoint(Time(report.Range.To), series.Points[^1].Y));
            model.Series.Add(series);
        }

        return model;
    }

    /// <summary>A stage and share as a height on the ladder chart.</summary>
    public static double Rung(ModelStage? stage, double share) => stage switch
    {
        ModelStage.Shadow => 1 + Math.Clamp(share, 0, 100) / 100,
        ModelStage.Experiment => 3,
        ModelStage.Champion => 4,
        _ => 0,
    };

    /// <summary>The champion's and the challenger's scores on the same requests, overlaid.</summary>
    public static PlotModel Overlaid(ChallengerComparison c)
    {
        var model = Base("Predictions on the same requests", $"{c.Overall.Pairs:N0} pairs; bins from the training baseline, bar area = share of scores");
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "score" });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "density", Minimum = 0 });
        model.Series.Add(Bars(c.ChampionPrediction, "champion v" + c.ChampionVersion, Champion));
        model.Series.Add(Bars(c.Prediction, "v" + c.Challenger.Version, Challenger));
        model.Annotations.Add(new LineAnnotation { Type = LineAnnotationType.Vertical, X = c.Threshold, Color = OxyColors.Black, LineStyle = LineStyle.Dash, Text = "threshold" });
        return model;
    }

    /// <summary>Challenger − champion score per request.</summary>
    public static PlotModel Delta(ChallengerComparison c)
    {
        var model = Base("Score delta (challenger − champion)", "finer bins near 0; bar area = share of pairs");
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "delta", Minimum = -0.6, Maximum = 0.6 });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "density", Minimum = 0 });
        model.Series.Add(Bars(c.Delta, "v" + c.Challenger.Version, Challenger, lowest: -0.6, highest: 0.6));
        model.Annotations.Add(new LineAnnotation { Type = LineAnnotationType.Vertical, X = 0, Color = OxyColors.Black });
        return model;
    }

    /// <summary>p50 and p99 latency per bucket, both versions.</summary>
    public static PlotModel Latency(ChallengerComparison c, ModelReport report)
    {
        var model = Base("Latency per window", "upper bound of the bin holding the quantile; challenger: its scoring, champion: the request");
        model.Axes.Add(TimeAxis(report.Range));
        model.Axes.Add(new LogarithmicAxis { Position = AxisPosition.Left, Title = "ms" });
        model.Series.Add(Line(c.Windows, w => w.Champion.P50LatencyMs, $"champion v{c.ChampionVersion} p50", Champion, LineStyle.Solid));
        model.Series.Add(Line(c.Windows, w => w.Champion.P99LatencyMs, $"champion v{c.ChampionVersion} p99", Champion, LineStyle.Dash));
        model.Series.Add(Line(c.Windows, w => w.Challenger.P50LatencyMs, $"v{c.Challenger.Version} p50", Challenger, LineStyle.Solid));
        model.Series.Add(Line(c.Windows, w => w.Challenger.P99LatencyMs, $"v{c.Challenger.Version} p99", Challenger, LineStyle.Dash));
        model.Annotations.Add(new LineAnnotation { Type = LineAnnotationType.Horizontal, Y = report.Rules.MaxP99LatencyMs, Color = Alert, LineStyle = LineStyle.Dot, Text = "max p99 (rules)" });
        return model;
    }

    /// <summary>Error rate per bucket (errors and time-outs over attempts), both versions.</summary>
    public static PlotModel Errors(ChallengerComparison c, ModelReport report)
    {
        var model = Base("Error rate per window", "errors and time-outs over attempts");
        model.Axes.Add(TimeAxis(report.Range));
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Minimum = 0, StringFormat = "0.##%", MaximumPadding = 0.2 });
        model.Series.Add(Line(c.Windows, w => w.Champion.Samples == 0 ? double.NaN : w.Champion.ErrorRate, "champion v" + c.ChampionVersion, Champion, LineStyle.Solid));
        model.Series.Add(Line(c.Windows, w => w.Challenger.Samples == 0 ? double.NaN : w.Challenger.ErrorRate, "v" + c.Challenger.Version, Challenger, LineStyle.Solid));
        model.Annotations.Add(new LineAnnotation { Type = LineAnnotationType.Horizontal, Y = report.Rules.MaxErrorRate, Color = Alert, LineStyle = LineStyle.Dot, Text = "max error rate (rules)" });
        return model;
    }

    /// <summary>Agreement at the threshold and Spearman's rank correlation per bucket.</summary>
    public static PlotModel Agreement(ChallengerComparison c, ModelReport report)
    {
        var model = Base("Agreement and rank correlation per window", $"decisions at {c.Threshold.ToString("0.##", CultureInfo.InvariantCulture)} that agree; Spearman on a sample of pairs");
        model.Axes.Add(TimeAxis(report.Range));
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Minimum = -0.05, Maximum = 1.05 });
        model.Series.Add(Line(c.Windows, w => w.Challenger.Agreement, "agreement", Challenger, LineStyle.Solid));
        model.Series.Add(Line(c.Windows, w => w.Challenger.RankCorrelation, "rank correlation", Palette[2], LineStyle.Solid));
        return model;
    }

    /// <summary>A metric per bucket for every version with outcomes.</summary>
    public static PlotModel MetricPerWindow(ModelReport report, string title, Func<OutcomeMetrics, double> metric)
    {
        var model = Base(title + " per window", "by prediction time: a late outcome counts in its prediction's window");
        model.Axes.Add(TimeAxis(report.Range));
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, MaximumPadding = 0.1, MinimumPadding = 0.1 });
        var index = 0;
        foreach (var o in report.Outcomes)
        {
            var series = new LineSeries { Title = $"v{o.Version} ({o.Stage.ToLowerInvariant()})", Color = Color(index++), MarkerType = MarkerType.Circle, MarkerSize = 3 };
            foreach (var w in o.Windows)
            {
                var value = metric(w.Metrics);
                series.Points.Add(double.IsNaN(value) ? DataPoint.Undefined : new DataPoint(Time(w.WindowStart!.Value + report.Range.Bucket / 2), value));
            }

            model.Series.Add(series);
        }

        return model;
    }

    /// <summary>One version's calibration curve: mean predicted probability against the observed rate per bin.</summary>
    public static PlotModel Calibration(VersionOutcomes o, int index)
    {
        var model = Base($"Calibration of v{o.Version}", $"{o.Overall.Metrics.Count:N0} outcomes; the diagonal is perfect calibration");
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "mean predicted", Minimum = 0, Maximum = 1 });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "observed rate", Minimum = 0, Maximum = 1 });
        model.Annotations.Add(new LineAnnotation { Type = LineAnnotationType.LinearEquation, Slope = 1, Intercept = 0, Color = OxyColors.Gray, LineStyle = LineStyle.Dash });
        var series = new LineSeries { Title = "v" + o.Version, Color = Color(index), MarkerType = MarkerType.Circle, MarkerSize = 4 };
        foreach (var bin in o.Overall.Metrics.Calibration.Where(b => b.Count > 0))
        {
            series.Points.Add(new DataPoint(bin.MeanPredicted, bin.ObservedRate));
        }

        model.Series.Add(series);
        return model;
    }

    /// <summary>The sequential test's ln Λ as outcomes accumulated, against its decision threshold.</summary>
    public static PlotModel Sequential(VersionOutcomes o, ModelReport report)
    {
        var trace = o.Sequential!;
        var model = Base($"Sequential test: v{o.Version} against the champion", $"{trace.Basis}, {trace.Metric}; a decision once ln Λ reaches ln(1/α)");
        model.Axes.Add(TimeAxis(report.Range));
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "ln Λ", Minimum = Math.Min(0, trace.Points.Min(p => p.LogLikelihoodRatio)), Maximum = Math.Max(trace.LogThreshold, trace.Points.Max(p => p.LogLikelihoodRatio)) * 1.15 });
        var series = new LineSeries { Title = "ln Λ", Color = Challenger, MarkerType = MarkerType.Circle, MarkerSize = 3 };
        foreach (var p in trace.Points)
        {
            series.Points.Add(new DataPoint(Time(p.At), p.LogLikelihoodRatio));
        }

        model.Series.Add(series);
        model.Annotations.Add(new LineAnnotation { Type = LineAnnotationType.Horizontal, Y = trace.LogThreshold, Color = Alert, LineStyle = LineStyle.Dash, Text = "ln(1/α)" });
        return model;
    }

    /// <summary>
    /// PSI against the training baseline, a row per subject and a cell per bucket, coloured by the drift thresholds
    /// (grey: too few samples to judge).
    /// </summary>
    public static PlotModel DriftStrip(VersionDrift drift, ModelReport report)
    {
        var o = report.Thresholds;
        var model = Base($"Drift of v{drift.Version}: PSI against the training baseline", $"green below {o.PsiWarn}, amber from {o.PsiWarn}, red from {o.PsiAlert}; grey: fewer than {o.MinSamples} values");
        model.Axes.Add(TimeAxis(report.Range));
        model.Axes.Add(new CategoryAxis { Position = AxisPosition.Left, ItemsSource = drift.Subjects, GapWidth = 0, IsTickCentered = false });
        var colors = new RangeColorAxis { Position = AxisPosition.Right, Key = "psi", IsAxisVisible = false, InvalidNumberColor = NoData, LowColor = NoData };
        colors.AddRange(0, o.PsiWarn, Ok);
        colors.AddRange(o.PsiWarn, o.PsiAlert, Warn);
        colors.AddRange(o.PsiAlert, double.MaxValue, Alert);
        model.Axes.Add(colors);
        var data = new double[drift.Windows.Count, drift.Subjects.Count];
        for (var x = 0; x < drift.Windows.Count; x++)
        {
            for (var y = 0; y < drift.Subjects.Count; y++)
            {
                var finding = drift.Windows[x].Findings.FirstOrDefault(f => f.Subject == drift.Subjects[y] && f.Measure == DriftMeasures.Distribution && f.Reference == "baseline");
                data[x, y] = finding is null || finding.Status == DriftStatus.Insufficient || double.IsNaN(finding.Psi) ? double.NaN : finding.Psi;
            }
        }

        model.Series.Add(new HeatMapSeries
        {
            X0 = Time(drift.Windows[0].Start + (report.Range.Bucket / 2)), X1 = Time(drift.Windows[^1].Start + (report.Range.Bucket / 2)),
            Y0 = 0, Y1 = drift.Subjects.Count - 1,
            CoordinateDefinition = HeatMapCoordinateDefinition.Center, // a cell per (bucket, subject), centred where the category axis puts the subject
            RenderMethod = HeatMapRenderMethod.Rectangles,
            ColorAxisKey = "psi",
            Data = data,
        });
        return model;
    }

    /// <summary>A rate (missing or stale) per bucket and feature, with the warn and alert rises drawn.</summary>
    public static PlotModel Rates(VersionDrift drift, ModelReport report, string measure, string title)
    {
        var o = report.Thresholds;
        var model = Base($"{title} of v{drift.Version}'s features", $"warns at a rise of {o.RateWarn:0%}, alerts at {o.RateAlert:0%} over the reference");
        model.Axes.Add(TimeAxis(report.Range));
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Minimum = 0, Maximum = 1, StringFormat = "0%" });
        var index = 0;
        foreach (var subject in drift.Subjects.Skip(1))
        {
            var color = Color(index++);
            var series = new LineSeries { Title = subject, Color = color, MarkerType = MarkerType.Circle, MarkerSize = 2.5, MarkerFill = color }; // a lone window is a point
            foreach (var w in drift.Windows)
            {
                var finding = w.Findings.FirstOrDefault(f => f.Subject == subject && f.Measure == measure);
                series.Points.Add(finding is null || double.IsNaN(finding.Value) ? DataPoint.Undefined : new DataPoint(Time(w.Start + report.Range.Bucket / 2), finding.Value));
            }

            model.Series.Add(series);
        }

        // The thresholds are rises over each feature's reference (its training missing rate, or the window before); drawn over the lowest.
        var reference = drift.Windows.SelectMany(w => w.Findings).Where(f => f.Measure == measure && !double.IsNaN(f.ReferenceValue)).Select(f => f.ReferenceValue).DefaultIfEmpty(0).Min();
        model.Annotations.Add(new LineAnnotation { Type = LineAnnotationType.Horizontal, Y = reference + o.RateWarn, Color = Warn, LineStyle = LineStyle.Dot, Text = $"warn: reference + {o.RateWarn:0%}" });
        model.Annotations.Add(new LineAnnotation { Type = LineAnnotationType.Horizontal, Y = reference + o.RateAlert, Color = Alert, LineStyle = LineStyle.Dot, Text = $"alert: reference + {o.RateAlert:0%}" });
        return model;
    }

    private static PlotModel Base(string title, string subtitle)
    {
        var model = new PlotModel
        {
            Title = title, Subtitle = subtitle, TitleFontSize = 13 / PointsPerPixel, SubtitleFontSize = 10 / PointsPerPixel, DefaultFont = ChartFont, DefaultFontSize = 10 / PointsPerPixel,
            PlotAreaBorderColor = OxyColor.FromRgb(0xbb, 0xbb, 0xbb),
        };
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.RightTop, LegendPlacement = LegendPlacement.Outside, LegendFontSize = 10 / PointsPerPixel });
        return model;
    }

    private static DateTimeAxis TimeAxis(ReportRange range) => new()
    {
        Position = AxisPosition.Bottom,
        Minimum = Time(range.From),
        Maximum = Time(range.To),
        StringFormat = range.To - range.From > TimeSpan.FromDays(2) ? "MM-dd" : "HH:mm",
        Title = "UTC",
    };

    private static double Time(DateTimeOffset at) => DateTimeAxis.ToDouble(at.UtcDateTime);

    private static OxyColor Color(int index) => Palette[index % Palette.Length];

    /// <summary>
    /// A histogram as a density (bar area = the bin's share), so uneven bins — quantiles of the training data — are drawn
    /// true to size; the open outer bins end at <paramref name="lowest"/> and <paramref name="highest"/> (or a neighbour's width).
    /// </summary>
    private static HistogramSeries Bars(Histogram h, string title, OxyColor color, double lowest = 0, double highest = 1)
    {
        var series = new HistogramSeries { Title = title, FillColor = OxyColor.FromAColor(110, color), StrokeColor = color, StrokeThickness = 1 };
        var total = (double)h.Total;
        if (total == 0)
        {
            return series;
        }

        var edges = h.Edges;
        for (var i = 0; i < h.Counts.Length; i++)
        {
            var step = edges.Length > 1 ? edges[1] - edges[0] : 1;
            var lower = i > 0 ? edges[i - 1] : lowest < edges[0] ? lowest : edges[0] - step;
            var upper = i < edges.Length ? edges[i] : highest > edges[^1] ? highest : edges[^1] + (edges.Length > 1 ? edges[^1] - edges[^2] : 1);
            series.Items.Add(new HistogramItem(lower, upper, h.Counts[i] / total, (int)Math.Min(h.Counts[i], int.MaxValue)));
        }

        return series;
    }

    private static LineSeries Line(IReadOnlyList<ComparisonWindow> windows, Func<ComparisonWindow, double> value, string title, OxyColor color, LineStyle style)
    {
        var series = new LineSeries { Title = title, Color = color, LineStyle = style, MarkerType = MarkerType.Circle, MarkerSize = 2.5, MarkerFill = color };
        foreach (var w in windows)
        {
            var v = value(w);
            series.Points.Add(double.IsNaN(v) || double.IsInfinity(v) ? DataPoint.Undefined : new DataPoint(Time(w.Start), v));
        }

        return series;
    }
}
